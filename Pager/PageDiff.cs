using OrleansDsm.Pages;

namespace OrleansDsm.Pager;

/// <summary>The bytes a process changed in a page: the runs where its copy now differs from the twin taken at the first write.</summary>
internal static class PageDiff
{
    // Runs closer than this are sent as one: a run costs its offset and length in the message.
    private const int Gap = 16;

    public static ByteRun[] Changes(ReadOnlySpan<byte> twin, ReadOnlySpan<byte> current)
    {
        var runs = new List<ByteRun>();
        var at = 0;
        while (at < current.Length)
        {
            var differs = twin[at..].CommonPrefixLength(current[at..]);
            if (differs == current.Length - at) break;
            var start = at + differs;
            var end = start;
            // Extend the run while differences follow within the gap.
            while (end < current.Length)
            {
                var same = twin[end..].CommonPrefixLength(current[end..]);
                if (same > 0 && (same >= Gap || end + same == current.Length)) break;
                end += Math.Max(same, 1);
                while (end < current.Length && twin[end] != current[end]) end++;
            }
            runs.Add(new ByteRun(start, current[start..end].ToArray()));
            at = end;
        }
        return [.. runs];
    }
}
