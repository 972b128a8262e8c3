using Orleans.Runtime;
using Orleans.Storage;

namespace OrleansDsm.Tests.Durability;

/// <summary>
/// Orleans' ETag contract, which every store of pages keeps: a write or a clear that names a version other than the
/// stored one changes nothing and fails with <see cref="InconsistentStateException"/>. Each store's tests inherit these.
/// </summary>
public abstract class GrainStorageContract
{
    /// <summary>The store under test, fresh for each test.</summary>
    protected abstract IGrainStorage Storage { get; }

    protected static GrainId Page(long number) => GrainId.Create("page", number.ToString(System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public async Task A_write_naming_a_stale_version_or_none_changes_nothing_and_fails()
    {
        var first = new GrainState<string> { State = "one" };
        await Storage.WriteStateAsync("page", Page(1), first);
        var stale = new GrainState<string> { State = "two", ETag = first.ETag, RecordExists = true };
        first.State = "newest";
        await Storage.WriteStateAsync("page", Page(1), first);

        var refused = await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteStateAsync("page", Page(1), stale));
        Assert.Contains("another activation wrote it", refused.Message);
        var fresh = new GrainState<string> { State = "as if new" };
        await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteStateAsync("page", Page(1), fresh));

        var read = new GrainState<string>();
        await Storage.ReadStateAsync("page", Page(1), read);
        Assert.Equal(("newest", true, first.ETag), (read.State, read.RecordExists, read.ETag));
    }

    [Fact]
    public async Task A_clear_naming_a_stale_version_fails_and_a_current_one_removes_the_record()
    {
        var state = new GrainState<string> { State = "kept" };
        await Storage.WriteStateAsync("page", Page(2), state);
        var stale = new GrainState<string> { State = "kept", ETag = state.ETag, RecordExists = true };
        await Storage.WriteStateAsync("page", Page(2), state);

        var refused = await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.ClearStateAsync("page", Page(2), stale));
        Assert.Contains("another activation wrote it", refused.Message);
        var read = new GrainState<string>();
        await Storage.ReadStateAsync("page", Page(2), read);
        Assert.Equal(("kept", true), (read.State, read.RecordExists));

        await Storage.ClearStateAsync("page", Page(2), state);
        Assert.Equal((false, null), (state.RecordExists, state.ETag));
        await Storage.ReadStateAsync("page", Page(2), read);
        Assert.Equal((false, null), (read.RecordExists, read.ETag));
    }
}
