using System.Runtime.InteropServices;
using OrleansDsm.Pages;

namespace OrleansDsm.Pager;

/// <summary>
/// The bytes a process changed in a mapped page, found against the twin taken at its first store, in aligned 8-byte
/// words (as TreadMarks compared words): each run is a maximal stretch of words that differ, and no word that is the
/// same as the twin is ever sent, since another process may have written it meanwhile. A mapping cannot know which
/// bytes were stored to (a store faults once per page), so a word changed in one byte goes whole.
/// </summary>
internal static class PageDiff
{
    public const int WordBytes = sizeof(ulong);

    public static ByteRun[] Changes(ReadOnlySpan<byte> twin, ReadOnlySpan<byte> current)
    {
        // Mapped pages are whole OS pages: a multiple of 8 bytes, 8-byte aligned.
        ReadOnlySpan<ulong> before = MemoryMarshal.Cast<byte, ulong>(twin), now = MemoryMarshal.Cast<byte, ulong>(current);
        var runs = new List<ByteRun>();
        for (var word = 0; word < now.Length; )
        {
            word += before[word..].CommonPrefixLength(now[word..]);
            if (word == now.Length) break;
            var start = word;
            while (word < now.Length && before[word] != now[word]) word++;
            runs.Add(new ByteRun(start * WordBytes, current[(start * WordBytes)..(word * WordBytes)].ToArray()));
        }
        return [.. runs];
    }
}
