namespace OrleansDsm.Pages;

/// <summary>A byte range inside one page: the unit a range operation is split into.</summary>
/// <param name="Page">The page number.</param>
/// <param name="Offset">The first byte within the page.</param>
/// <param name="Length">How many bytes.</param>
[GenerateSerializer, Immutable]
public readonly record struct PageSpan(long Page, int Offset, int Length);
