using CsCheck;
using OrleansDsm.Pager;

namespace OrleansDsm.Tests.Units;

/// <summary>
/// A mapped page's release sends exactly the aligned 8-byte words that differ from its twin, as maximal runs: a word
/// the process left as it was is never sent, so processes that write different words of one page between
/// synchronizations do not overwrite each other.
/// </summary>
public sealed class PageDiffTests
{
    private const int PageSize = 4096;

    [Fact]
    public void A_change_goes_as_its_whole_word_and_unchanged_words_between_changes_stay_out()
    {
        var twin = new byte[PageSize];
        var current = (byte[])twin.Clone();
        current[3] = 1;              // word 0
        current[17] = 2;             // word 2; word 1 unchanged: two runs
        current[24] = 3;             // word 3: joins word 2's run
        current[PageSize - 1] = 4;   // the last word

        var runs = PageDiff.Changes(twin, current);

        Assert.Equal([(0, 8), (16, 16), (PageSize - 8, 8)], runs.Select(run => (run.Offset, run.Bytes.Length)));
        Assert.All(runs, run => Assert.True(run.Bytes.AsSpan().SequenceEqual(current.AsSpan(run.Offset, run.Bytes.Length))));
        Assert.Empty(PageDiff.Changes(twin, twin));
    }

    [Fact]
    public void Runs_cover_exactly_the_words_that_differ()
    {
        // Pages of a small alphabet, so that many words come out the same.
        Gen.Select(Gen.Byte[0, 1].Array[PageSize], Gen.Int[0, PageSize - 1].Array[0, 40]).Sample((twin, flips) =>
        {
            var current = (byte[])twin.Clone();
            foreach (var at in flips) current[at] ^= 1;
            var sent = new bool[PageSize / 8];
            var previousEnd = -1;
            foreach (var run in PageDiff.Changes(twin, current))
            {
                if (run.Offset % 8 != 0 || run.Bytes.Length % 8 != 0 || run.Offset <= previousEnd) return false; // aligned, ordered, separate
                if (!run.Bytes.AsSpan().SequenceEqual(current.AsSpan(run.Offset, run.Bytes.Length))) return false;
                for (var word = run.Offset / 8; word < (run.Offset + run.Bytes.Length) / 8; word++) sent[word] = true;
                previousEnd = run.Offset + run.Bytes.Length;
            }
            for (var word = 0; word < PageSize / 8; word++)
                if (sent[word] != !twin.AsSpan(word * 8, 8).SequenceEqual(current.AsSpan(word * 8, 8))) return false;
            return true;
        });
    }
}
