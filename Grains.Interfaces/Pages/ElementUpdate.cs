namespace OrleansDsm.Pages;

/// <summary>What an atomic returns: the element's value (new or original, per the operation) and the page version the write produced.</summary>
/// <param name="Value">The value the operation returns, in the low bytes.</param>
/// <param name="Version">The page's version after the operation; a cache keeps no copy older than this.</param>
[GenerateSerializer, Immutable]
public readonly record struct ElementUpdate(ulong Value, long Version);
