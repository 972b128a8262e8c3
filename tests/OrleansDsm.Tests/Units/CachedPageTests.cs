using OrleansDsm.Caching;

namespace OrleansDsm.Tests.Units;

/// <summary>
/// A cached copy takes small changes (released revocations' bytes, this client's own writes) by laying them over its
/// bytes, not by copying the page: what it serves must be exactly what a copy with the changes applied would serve,
/// element by element and range by range, newest change first where changes overlap.
/// </summary>
public sealed class CachedPageTests
{
    private const int PageSize = 4096;

    [Fact]
    public void Revocations_with_bytes_are_served_over_the_same_bytes_until_there_are_too_many()
    {
        var (copy, expected) = StrictCopy(version: 10);
        var original = copy.BytesBeneath;
        // Each revocation's bytes are held back, and served from the next revocation on (see CachedPage.Revoked): after
        // revocation i, the changes of 1 to i - 1 are laid over the bytes.
        var laidOver = CachedPage.MaxAppliedRuns + 1;
        for (var i = 1; i <= laidOver; i++)
        {
            copy = copy.Revoked(10 + i, 8 * i, 8, BitConverter.GetBytes(1000L + i), lackedAlready: false)!;
            if (i > 1) expected[i - 1] = 1000 + i - 1;
            AssertServes(expected, copy, heldBack: i);
            Assert.Same(original, copy.BytesBeneath);
        }
        copy = copy.Revoked(10 + laidOver + 1, 0, 8, BitConverter.GetBytes(7L), lackedAlready: false)!;
        expected[laidOver] = 1000 + laidOver;
        Assert.NotSame(original, copy.BytesBeneath);
        Assert.True(copy.IsWhole is false && copy.Serves(8, 8 * laidOver), "only the newest change is held back");
        for (var i = 1; i <= laidOver; i++) Assert.Equal(1000 + i, BitConverter.ToInt64(copy.BytesBeneath!, 8 * i));
        Assert.Equal(0, BitConverter.ToInt64(original!, 8 * laidOver)); // the old bytes stay as readers saw them
        AssertServes(expected, copy, heldBack: 0, except: 0);
    }

    [Fact]
    public void A_run_published_together_keeps_every_change_held_back_until_a_later_revocation_starts()
    {
        var (copy, expected) = StrictCopy(version: 10);
        // 11 starts a run that 12 and 13 continue: the page publishes the three together, so none is served yet.
        copy = copy.Revoked(11, 8, 8, BitConverter.GetBytes(1001L), lackedAlready: false)!;
        copy = copy.Revoked(12, 16, 8, BitConverter.GetBytes(1002L), lackedAlready: false, continues: true)!;
        copy = copy.Revoked(13, 24, 8, BitConverter.GetBytes(1003L), lackedAlready: false, continues: true)!;
        Assert.Equal((13L, 3), (copy.Version, copy.BlockedRanges));
        for (var i = 1; i <= 3; i++) Assert.False(copy.Serves(8 * i, 8), $"element {i}, changed in the run, is held back");
        for (var i = 4; i < expected.Length; i++) Assert.Equal(expected[i], copy.Read<long>(8 * i));

        // The revocation of a later write shows the run published: all three are served, and its own change held back.
        copy = copy.Revoked(14, 40, 8, BitConverter.GetBytes(1005L), lackedAlready: false)!;
        for (var i = 1; i <= 3; i++) expected[i] = 1000 + i;
        AssertServes(expected, copy, heldBack: 5);

        // A run longer than a copy may hold back drops the copy.
        var held = copy.Revoked(15, 48, 8, BitConverter.GetBytes(1006L), lackedAlready: false)!;
        for (var version = 16; version < 15 + CachedPage.MaxBlockedRanges; version++)
            held = held.Revoked(version, 48, 8, BitConverter.GetBytes(1006L), lackedAlready: false, continues: true)!;
        Assert.Equal(CachedPage.MaxBlockedRanges, held.BlockedRanges);
        Assert.Null(held.Revoked(15 + CachedPage.MaxBlockedRanges, 48, 8, BitConverter.GetBytes(1006L), lackedAlready: false, continues: true));
    }

    [Fact]
    public void Overlapping_changes_read_newest_first_and_an_element_across_a_change_is_put_together()
    {
        var (copy, expected) = StrictCopy(version: 1);
        // Own writes: bytes [12, 20) then [16, 24), overlapping, each changing half of two elements.
        copy = copy.Changed(2, new PageChange(12, Filled(8, 0xAA)))!;
        copy = copy.Changed(3, new PageChange(16, Filled(8, 0xBB)))!;
        var bytes = BitConverter.GetBytes(expected[1]).Concat(BitConverter.GetBytes(expected[2])).Concat(BitConverter.GetBytes(expected[3])).ToArray();
        Filled(8, 0xAA).CopyTo(bytes, 4);
        Filled(8, 0xBB).CopyTo(bytes, 8);
        for (var i = 1; i <= 3; i++) expected[i] = BitConverter.ToInt64(bytes, 8 * (i - 1));
        AssertServes(expected, copy, heldBack: 0);
        Assert.Equal(3, copy.Version);
        Assert.False(copy.ServesWhole, "a copy with changes over its bytes is read through them, not straight from its bytes");
        Assert.True(copy.IsWhole);
        Assert.Equal(PageSize + 16 + CachedPage.Overhead, copy.Cost);
    }

    [Fact]
    public void A_change_too_large_to_lay_over_the_bytes_is_applied_to_new_bytes()
    {
        var (copy, expected) = StrictCopy(version: 1);
        var original = copy.BytesBeneath;
        var large = new long[PageSize / 8 / 8 + 1];
        Array.Fill(large, 5L);
        copy = copy.Changed(2, new PageChange(0, large.SelectMany(BitConverter.GetBytes).ToArray()))!;
        Array.Fill(expected, 5L, 0, large.Length);
        AssertServes(expected, copy, heldBack: 0);
        Assert.NotSame(original, copy.BytesBeneath);
        Assert.True(copy.ServesWhole);
        Assert.Equal(PageSize + CachedPage.Overhead, copy.Cost);
    }

    [Fact]
    public void Every_read_of_a_copy_with_changes_laid_over_it_sees_them_whatever_block_it_starts_or_ends_in()
    {
        // A page of 128 blocks of 64 bytes, so that blocks 64 apart share a bit of the copy's record of changed blocks.
        const int largePage = 8192;
        var bytes = Enumerable.Range(0, largePage).Select(i => (byte)(i * 7)).ToArray();
        var copy = new CachedPage(7, 1, 1, bytes, new SiloLease("silo", 1), 0);
        var expected = (byte[])bytes.Clone();
        // One change across the end of block 9, one at the start of block 20 (which a read from block 19 ends in), one
        // inside block 2 (which a wide read from block 0 to block 3 spans), and one in block 66, whose bit is block 2's.
        var changes = new[] { (10 * 64 - 4, 8, (byte)0xA1), (20 * 64, 2, (byte)0xD4), (150, 4, (byte)0xB2), (66 * 64 + 10, 2, (byte)0xC3) };
        foreach (var (offset, length, value) in changes)
        {
            copy = copy.Changed(copy.Version + 1, new PageChange(offset, Filled(length, value)))!;
            Array.Fill(expected, value, offset, length);
        }
        Assert.Same(bytes, copy.BytesBeneath);
        for (var offset = 0; offset + 8 <= largePage; offset++)
        {
            Assert.Equal(expected[offset], copy.Read<byte>(offset));
            Assert.Equal(BitConverter.ToInt64(expected, offset), copy.Read<long>(offset));
        }
        for (var offset = 0; offset + WideElement.Size <= largePage; offset += 61)
        {
            var wide = copy.Read<WideElement>(offset);
            Assert.Equal(expected.AsSpan(offset, WideElement.Size).ToArray(), ((ReadOnlySpan<byte>)wide).ToArray());
        }
    }

    [Fact]
    public void Copies_stepped_from_one_copy_each_serve_their_own_change_and_leave_the_first_as_it_was()
    {
        // A copy never changes once made, whatever is made from it: a copy stepped a second time from the same copy (a
        // write's basis kept while a revocation replaced it, say) leaves the first step and the copy as they were.
        var (basis, expected) = StrictCopy(version: 1);
        basis = basis.Changed(2, new PageChange(8, BitConverter.GetBytes(100L)))!;
        expected[1] = 100;
        var first = basis.Changed(3, new PageChange(16, BitConverter.GetBytes(200L)))!;
        var second = basis.Changed(3, new PageChange(24, BitConverter.GetBytes(300L)))!;
        var third = first.Changed(4, new PageChange(32, BitConverter.GetBytes(400L)))!;

        AssertServes(expected, basis, heldBack: 0);
        AssertServes(With(expected, (2, 200)), first, heldBack: 0);
        AssertServes(With(expected, (3, 300)), second, heldBack: 0);
        AssertServes(With(expected, (2, 200), (4, 400)), third, heldBack: 0);
        foreach (var copy in new[] { basis, first, second, third }) Assert.Same(basis.BytesBeneath, copy.BytesBeneath);
    }

    [Fact]
    public void Copies_stepped_from_one_copy_through_a_run_each_hold_back_their_own_change()
    {
        var (copy, expected) = StrictCopy(version: 10);
        copy = copy.Revoked(11, 8, 8, BitConverter.GetBytes(1001L), lackedAlready: false)!;
        var first = copy.Revoked(12, 16, 8, BitConverter.GetBytes(1002L), lackedAlready: false, continues: true)!;
        var second = copy.Revoked(12, 24, 8, BitConverter.GetBytes(1003L), lackedAlready: false, continues: true)!;
        Assert.Equal((false, true), (first.Serves(16, 8), first.Serves(24, 8)));
        Assert.Equal((true, false), (second.Serves(16, 8), second.Serves(24, 8)));

        // A later write's revocation serves what each held back.
        first = first.Revoked(13, 40, 8, BitConverter.GetBytes(1005L), lackedAlready: false)!;
        second = second.Revoked(13, 40, 8, BitConverter.GetBytes(1005L), lackedAlready: false)!;
        expected[1] = 1001;
        AssertServes(With(expected, (2, 1002)), first, heldBack: 5);
        AssertServes(With(expected, (3, 1003)), second, heldBack: 5);
    }

    private static long[] With(long[] elements, params (int Index, long Value)[] changes)
    {
        var changed = (long[])elements.Clone();
        foreach (var (index, value) in changes) changed[index] = value;
        return changed;
    }

    /// <summary>An element wider than two of a copy's blocks, whose first and last bytes lie in blocks no change touches.</summary>
    [System.Runtime.CompilerServices.InlineArray(Size)]
    private struct WideElement
    {
        public const int Size = 160;
        private byte _first;
    }

    /// <summary>A Strict copy of a page whose element i is i * 3, but for the first ones, which the tests change, at 0.</summary>
    private static (CachedPage Copy, long[] Expected) StrictCopy(long version)
    {
        var expected = Enumerable.Range(0, PageSize / 8).Select(i => i > CachedPage.MaxAppliedRuns + 1 ? i * 3L : 0).ToArray();
        var bytes = expected.SelectMany(BitConverter.GetBytes).ToArray();
        return (new CachedPage(7, 1, version, bytes, new SiloLease("silo", 1), 0), expected);
    }

    /// <summary>
    /// Every element and the whole page read as <paramref name="expected"/>, but for the element that
    /// <paramref name="heldBack"/> or <paramref name="except"/> names (when positive, or given), which is not served.
    /// </summary>
    private static void AssertServes(long[] expected, CachedPage copy, int heldBack, int except = -1)
    {
        var notServed = heldBack > 0 ? heldBack : except;
        for (var i = 0; i < expected.Length; i++)
        {
            if (i == notServed)
            {
                Assert.False(copy.Serves(8 * i, 8), $"element {i}, held back, is not served");
                continue;
            }
            Assert.True(copy.Serves(8 * i, 8), $"element {i} is served");
            Assert.Equal(expected[i], copy.Read<long>(8 * i));
        }
        var range = new byte[PageSize];
        copy.CopyTo(0, range);
        var served = copy.ServedBytes()!; // what a caller that takes the whole page (the pager, a release's twin) gets
        for (var i = 0; i < expected.Length; i++)
            if (i != notServed)
            {
                Assert.Equal(expected[i], BitConverter.ToInt64(range, 8 * i));
                Assert.Equal(expected[i], BitConverter.ToInt64(served, 8 * i));
            }
        // A range that starts and ends inside changes reads the same bytes as the whole page does.
        var middle = new byte[20];
        copy.CopyTo(6, middle);
        Assert.Equal(range.AsSpan(6, 20).ToArray(), middle);
    }

    private static byte[] Filled(int length, byte value) => Enumerable.Repeat(value, length).ToArray();
}
