namespace OrleansDsm.Pages;

/// <summary>
/// Names one mutation: the client's session and a number the session never uses twice. A client that does not learn a
/// mutation's outcome (a lost response, a silo that died) sends it again with the same id, and the page returns the
/// original result instead of applying it twice.
/// </summary>
/// <param name="Session">The client's session; also its cache session, so the page does not revoke the writer's own copy.</param>
/// <param name="Sequence">Unique within the session.</param>
[GenerateSerializer, Immutable]
public readonly record struct RequestId(Guid Session, long Sequence);
