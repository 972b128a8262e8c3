namespace OrleansDsm.Pages;

/// <summary>Bytes to put at an offset of a page: one piece of a write that changes several separate places at once.</summary>
/// <param name="Offset">The first byte within the page.</param>
/// <param name="Bytes">What the bytes from there become.</param>
[GenerateSerializer, Immutable]
public readonly record struct ByteRun(int Offset, byte[] Bytes);
