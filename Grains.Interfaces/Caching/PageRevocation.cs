namespace OrleansDsm.Caching;

/// <summary>
/// One revocation of a session's copy of a page, as a page grain sends it before it publishes <see cref="Version"/>.
/// With a <see cref="Length"/> of 0, any copy older than the version is dropped. Otherwise the version differs from the
/// one before it only in bytes [<see cref="Offset"/>, <see cref="Offset"/> + <see cref="Length"/>), which it sets to
/// <see cref="Bytes"/> when they are sent (small changes): a copy of the version before may stay as a copy of this
/// version that serves every byte but those, and any other copy older than this version is dropped. The bytes sent may
/// be served from the revocation of a later write on: the page sends that only once every copy of the versions before
/// it is gone or answered for. A page sends a holder several versions behind one revocation per version, in one call,
/// so that its copy steps through them instead of being dropped: each but the first <see cref="Continues"/> the run,
/// whose versions the page publishes together, so a copy keeps the bytes of every one of them held back.
/// </summary>
[GenerateSerializer, Immutable]
public readonly record struct PageRevocation(long Page, long Version, int Offset, int Length, byte[]? Bytes, bool Continues = false);
