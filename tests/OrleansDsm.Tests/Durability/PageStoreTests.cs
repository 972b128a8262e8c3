using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;
using OrleansDsm.Database;
using OrleansDsm.Database.PageStore;
using OrleansDsm.Grains.Persistence;
using OrleansDsm.Testing;

namespace OrleansDsm.Tests.Durability;

/// <summary>
/// The batched page store against a real PostgreSQL: the ETag contract of Orleans' providers (a write or a clear that
/// names a stale version changes nothing and fails), and concurrent writes of many pages sharing commits.
/// </summary>
public sealed class PageStoreTests : IAsyncLifetime
{
    private PostgresServer _postgres = null!;
    private PostgreSqlPageStore _store = null!;

    public async Task InitializeAsync()
    {
        _postgres = await PostgresServer.StartAsync();
        var database = await _postgres.CreateDatabaseAsync("store");
        await DatabaseSchema.ApplyAsync(database);
        var serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();
        _store = new PostgreSqlPageStore(database, "store-tests", new ExactSizeStorageSerializer(serializer));
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        await _postgres.DisposeAsync();
    }

    private static GrainId Page(long number) => GrainId.Create("page", number.ToString(System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public async Task A_write_naming_a_stale_version_changes_nothing_and_fails()
    {
        var first = new GrainState<string> { State = "one" };
        await _store.WriteStateAsync("page", Page(1), first);
        var stale = new GrainState<string> { State = "two", ETag = first.ETag, RecordExists = true };
        first.State = "newest";
        await _store.WriteStateAsync("page", Page(1), first);

        await Assert.ThrowsAsync<InconsistentStateException>(() => _store.WriteStateAsync("page", Page(1), stale));
        var fresh = new GrainState<string> { State = "as if new" };
        await Assert.ThrowsAsync<InconsistentStateException>(() => _store.WriteStateAsync("page", Page(1), fresh));

        var read = new GrainState<string>();
        await _store.ReadStateAsync("page", Page(1), read);
        Assert.Equal(("newest", true, first.ETag), (read.State, read.RecordExists, read.ETag));
    }

    [Fact]
    public async Task A_clear_naming_a_stale_version_fails_and_a_current_one_removes_the_row()
    {
        var state = new GrainState<string> { State = "kept" };
        await _store.WriteStateAsync("page", Page(2), state);
        var stale = new GrainState<string> { State = "kept", ETag = state.ETag, RecordExists = true };
        await _store.WriteStateAsync("page", Page(2), state);

        await Assert.ThrowsAsync<InconsistentStateException>(() => _store.ClearStateAsync("page", Page(2), stale));
        var read = new GrainState<string>();
        await _store.ReadStateAsync("page", Page(2), read);
        Assert.True(read.RecordExists);

        await _store.ClearStateAsync("page", Page(2), state);
        Assert.False(state.RecordExists);
        await _store.ReadStateAsync("page", Page(2), read);
        Assert.Equal((false, null), (read.RecordExists, read.ETag));
    }

    [Fact]
    public async Task Concurrent_writes_of_many_pages_share_round_trips_and_commits()
    {
        const int pages = 512;
        var batchesBefore = _store.Batches;
        var states = Enumerable.Range(0, pages).Select(i => new GrainState<string> { State = $"page {i}" }).ToArray();

        await Task.WhenAll(states.Select((state, i) => _store.WriteStateAsync("page", Page(1000 + i), state)));
        var batches = _store.Batches - batchesBefore;

        for (var i = 0; i < pages; i += 37)
        {
            var read = new GrainState<string>();
            await _store.ReadStateAsync("page", Page(1000 + i), read);
            Assert.Equal($"page {i}", read.State);
        }
        Assert.InRange(batches, 2, pages / 8);
    }

    [Fact]
    public async Task An_unreachable_database_fails_reads_and_writes_as_storage_unavailable()
    {
        var serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();
        await using var nowhere = new PostgreSqlPageStore(
            $"Host=127.0.0.1;Port={LoopbackPorts.Free()};Username=postgres;Database=none;Timeout=2", "store-tests",
            new ExactSizeStorageSerializer(serializer));

        var read = await Assert.ThrowsAsync<OrleansDsm.Errors.StorageUnavailableException>(() => nowhere.ReadStateAsync("page", Page(9), new GrainState<string>()));
        var write = await Assert.ThrowsAsync<OrleansDsm.Errors.StorageUnavailableException>(() => nowhere.WriteStateAsync("page", Page(9), new GrainState<string> { State = "lost" }));

        Assert.Contains("page/9", read.Message, StringComparison.Ordinal);
        Assert.Contains("batch of 1 page writes", write.Message, StringComparison.Ordinal);
    }
}
