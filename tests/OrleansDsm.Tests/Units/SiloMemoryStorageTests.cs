using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;
using OrleansDsm.Grains.Persistence;
using OrleansDsm.Silo.Storage;

namespace OrleansDsm.Tests.Units;

/// <summary>
/// Memory mode's storage in the silo: Orleans' ETag contract (<see cref="Durability.GrainStorageContract"/>), no version
/// ever given twice, stored states isolated from the objects written, and shared when their grain never changes them
/// once stored.
/// </summary>
public sealed class SiloMemoryStorageTests : Durability.GrainStorageContract
{
    private readonly SiloMemoryStorage _storage = new(new ExactSizeStorageSerializer(
        new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>()));

    protected override IGrainStorage Storage => _storage;

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
    public async Task A_state_cleared_then_written_again_never_takes_a_version_given_before()
    {
        var state = new GrainState<string> { State = "kept" };
        await _storage.WriteStateAsync("page", Page(4), state);
        var stale = new GrainState<string> { State = "kept", ETag = state.ETag, RecordExists = true };
        await _storage.ClearStateAsync("page", Page(4), state);

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
