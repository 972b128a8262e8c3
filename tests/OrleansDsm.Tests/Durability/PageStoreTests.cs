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
/// The batched page store against a real PostgreSQL: the ETag contract of Orleans' providers
/// (<see cref="GrainStorageContract"/>), concurrent writes of many pages sharing commits, and an unreachable database.
/// </summary>
public sealed class PageStoreTests : GrainStorageContract, IAsyncLifetime
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

    protected override IGrainStorage Storage => _store;

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
    public async Task Concurrent_reads_of_many_pages_share_queries_and_each_gets_its_own_row_or_none()
    {
        const int pages = 256;
        // Every other page has a row; the rest read as no record.
        await Task.WhenAll(Enumerable.Range(0, pages).Where(i => i % 2 == 0)
            .Select(i => _store.WriteStateAsync("page", Page(5000 + i), new GrainState<string> { State = $"row {i}" })));
        var queriesBefore = _store.ReadQueries;
        var reads = Enumerable.Range(0, pages).Select(_ => new GrainState<string>()).ToArray();

        await Task.WhenAll(reads.Select((read, i) => _store.ReadStateAsync("page", Page(5000 + i), read)));

        for (var i = 0; i < pages; i++)
        {
            Assert.Equal(i % 2 == 0, reads[i].RecordExists);
            Assert.Equal(i % 2 == 0 ? $"row {i}" : null, reads[i].State);
            Assert.Equal(i % 2 == 0 ? "1" : null, reads[i].ETag);
        }
        Assert.InRange(_store.ReadQueries - queriesBefore, pages / PostgreSqlPageStore.MaxReadBatch, pages / 4);
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
