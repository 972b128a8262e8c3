using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;
using OrleansDsm.Grains.Persistence;
using OrleansDsm.Silo.Storage;

namespace OrleansDsm.Tests.Units;

/// <summary>
/// Memory mode's storage in the silo: Orleans' ETag contract (a write or clear that names a version other than the
/// stored one changes nothing and fails), no version ever given twice, stored states isolated from the objects
/// written, and shared when their grain never changes them once stored.
/// </summary>
public sealed class SiloMemoryStorageTests
{
    private readonly SiloMemoryStorage _storage = new(new ExactSizeStorageSerializer(
        new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>()));

    private static GrainId Page(long number) => GrainId.Create("page", number.ToString(System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public async Task A_state_never_written_reads_as_absent()
    {
        var read = new GrainState<List<long>> { State = [1], ETag = "7", RecordExists = true };
        await _storage.ReadStateAsync("page", Page(1), read);
        Assert.Equal((0, null, false), (read.State.Count, read.ETag, read.RecordExists));
    }

    [Fact]
    public async Task A_written_state_reads_back_and_later_changes_to_the_object_are_not_stored()
    {
        var written = new GrainState<List<long>> { State = [1, 2, 3] };
        await _storage.WriteStateAsync("page", Page(2), written);
        written.State.Add(4);

        var read = new GrainState<List<long>>();
        await _storage.ReadStateAsync("page", Page(2), read);
        Assert.Equal([1, 2, 3], read.State);
        Assert.Equal((written.ETag, true), (read.ETag, read.RecordExists));
        Assert.NotSame(written.State, read.State);
    }

    [Fact]
    public async Task A_state_its_grain_never_changes_once_stored_is_shared_not_copied()
    {
        var image = new Image(42);
        var written = new GrainState<Image> { State = image };
        await _storage.WriteStateAsync("page", Page(7), written);

        var read = new GrainState<Image>();
        await _storage.ReadStateAsync("page", Page(7), read);
        Assert.Same(image, read.State);
        Assert.Equal((written.ETag, true), (read.ETag, read.RecordExists));
        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.WriteStateAsync("page", Page(7), new GrainState<Image> { State = new Image(43) }));
    }

    /// <summary>A state of the kind a page stores: a new object for every change.</summary>
    private sealed record Image(int Value) : IUnchangedOnceStored;

    [Fact]
    public async Task A_write_naming_a_stale_version_or_none_changes_nothing_and_fails()
    {
        var first = new GrainState<string> { State = "one" };
        await _storage.WriteStateAsync("page", Page(3), first);
        var stale = new GrainState<string> { State = "two", ETag = first.ETag, RecordExists = true };
        first.State = "newest";
        await _storage.WriteStateAsync("page", Page(3), first);

        var refused = await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.WriteStateAsync("page", Page(3), stale));
        Assert.Contains("another activation wrote it", refused.Message);
        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.WriteStateAsync("page", Page(3), new GrainState<string> { State = "as if new" }));

        var read = new GrainState<string>();
        await _storage.ReadStateAsync("page", Page(3), read);
        Assert.Equal(("newest", true, first.ETag), (read.State, read.RecordExists, read.ETag));
    }

    [Fact]
    public async Task A_clear_naming_a_stale_version_fails_and_a_cleared_then_rewritten_state_never_takes_an_old_version()
    {
        var state = new GrainState<string> { State = "kept" };
        await _storage.WriteStateAsync("page", Page(4), state);
        var stale = new GrainState<string> { State = "kept", ETag = state.ETag, RecordExists = true };
        await _storage.WriteStateAsync("page", Page(4), state);

        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.ClearStateAsync("page", Page(4), stale));
        var read = new GrainState<string>();
        await _storage.ReadStateAsync("page", Page(4), read);
        Assert.Equal(("kept", true), (read.State, read.RecordExists));

        await _storage.ClearStateAsync("page", Page(4), state);
        Assert.Equal((null, false), (state.ETag, state.RecordExists));
        await _storage.ReadStateAsync("page", Page(4), read);
        Assert.False(read.RecordExists);

        // Written afresh, the record's versions are new ones: a holder of a version from before the clear is refused.
        var again = new GrainState<string> { State = "again" };
        await _storage.WriteStateAsync("page", Page(4), again);
        Assert.NotEqual(stale.ETag, again.ETag);
        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.WriteStateAsync("page", Page(4), stale));
    }

    [Fact]
    public async Task States_of_different_names_and_grains_are_kept_apart()
    {
        await _storage.WriteStateAsync("page", Page(5), new GrainState<string> { State = "page five" });
        await _storage.WriteStateAsync("region", Page(5), new GrainState<string> { State = "region five" });
        await _storage.WriteStateAsync("page", Page(6), new GrainState<string> { State = "page six" });

        var read = new GrainState<string>();
        await _storage.ReadStateAsync("region", Page(5), read);
        Assert.Equal("region five", read.State);
        await _storage.ReadStateAsync("page", Page(5), read);
        Assert.Equal("page five", read.State);
    }
}
