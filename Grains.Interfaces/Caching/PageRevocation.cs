namespace OrleansDsm.Caching;

/// <summary>
/// One revocation of a session's copy of a page, as a page grain sends it before it publishes <see cref="Version"/>.
/// With a <see cref="Length"/> of 0, any copy older than the version is dropped. Otherwise the version differs from the
/// one before it only in bytes [<see cref="Offset"/>, <see cref="Offset"/> + <see cref="Length"/>), which it sets to
/// <see cref="Bytes"/> when they are sent (small changes): a copy of the version before may stay as a copy of this
/// version that serves every byte but those, and any other copy older than this version is dropped. The bytes sent may
/// be served from the next revocation of the page on: the page sends it only once every copy of the versions before it
/// is gone or answered for.
/// </summary>
[GenerateSerializer, Immutable]
public readonly record struct PageRevocation(long Page, long Version, int Offset, int Length, byte[]? Bytes);
