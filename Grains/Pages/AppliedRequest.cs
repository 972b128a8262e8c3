using OrleansDsm.Pages;

namespace OrleansDsm.Grains.Pages;

/// <summary>A mutation the page applied, with what it returned: stored with the bytes, in the same write, for retries.</summary>
[GenerateSerializer, Immutable]
internal sealed record AppliedRequest([property: Id(0)] RequestId Request, [property: Id(1)] ulong Value, [property: Id(2)] long Version);

/// <summary>The highest sequence number of a session's mutations that a page no longer remembers one by one.</summary>
[GenerateSerializer, Immutable]
internal sealed record ForgottenRequests([property: Id(0)] Guid Session, [property: Id(1)] long UpTo);
