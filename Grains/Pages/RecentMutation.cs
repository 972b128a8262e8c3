namespace OrleansDsm.Grains.Pages;

/// <summary>
/// A mutation the page applied, with what it returned: stored with the bytes, in the same write, for retries. The
/// session is an index into <see cref="PageState.RecentSessions"/>, and the version follows from the mutation's place
/// in <see cref="PageState.Recent"/>, so an entry costs a few bytes.
/// </summary>
[GenerateSerializer, Immutable]
internal readonly record struct RecentMutation([property: Id(0)] int Session, [property: Id(1)] long Sequence, [property: Id(2)] ulong Value);

/// <summary>The highest sequence number of a session's mutations that a page no longer remembers one by one.</summary>
[GenerateSerializer, Immutable]
internal sealed record ForgottenRequests([property: Id(0)] Guid Session, [property: Id(1)] long UpTo);
