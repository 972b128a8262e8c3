using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;
using OrleansDsm.Errors;
using OrleansDsm.Grains.Persistence;
using OrleansDsm.Silo.Storage;

namespace OrleansDsm.Tests.Units;

/// <summary>
/// A page's state in its storage provider, called directly: it reads what was written under the same names, keeps
/// the provider's ETag so that a stale activation's write is refused, and reports a provider's failure the way
/// Orleans' persistent state did, our own and Orleans' errors as they are and any other inside an OrleansException.
/// </summary>
public sealed class DirectStateTests
{
    private static readonly GrainId Grain = GrainId.Create("page", "12");

    private readonly SiloMemoryStorage _memory = new(new ExactSizeStorageSerializer(
        new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>()));

    [Fact]
    public async Task A_grain_with_no_record_reads_a_new_state_and_a_written_one_reads_back_elsewhere()
    {
        var first = new DirectState<List<long>>(_memory, "pages", "page", Grain);
        await first.ReadAsync();
        Assert.Equal((0, false), (first.State.Count, first.RecordExists));

        first.State = [1, 2];
        await first.WriteAsync();
        Assert.True(first.RecordExists);
        var next = new DirectState<List<long>>(_memory, "pages", "page", Grain);
        await next.ReadAsync();
        Assert.Equal([1, 2], next.State);

        await next.ClearAsync();
        var after = new DirectState<List<long>>(_memory, "pages", "page", Grain);
        await after.ReadAsync();
        Assert.Equal((0, false), (after.State.Count, after.RecordExists));
    }

    [Fact]
    public async Task A_write_from_an_activation_that_read_before_another_wrote_is_refused_and_stores_nothing()
    {
        var stale = new DirectState<List<long>>(_memory, "pages", "page", Grain);
        await stale.ReadAsync();
        var current = new DirectState<List<long>>(_memory, "pages", "page", Grain);
        await current.ReadAsync();
        current.State = [7];
        await current.WriteAsync();

        stale.State = [8];
        await Assert.ThrowsAsync<InconsistentStateException>(stale.WriteAsync);
        await Assert.ThrowsAsync<InconsistentStateException>(stale.ClearAsync);
        var read = new DirectState<List<long>>(_memory, "pages", "page", Grain);
        await read.ReadAsync();
        Assert.Equal([7], read.State);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_foreign_failure_comes_inside_an_OrleansException_naming_the_storage_the_state_and_the_grain(bool throwsAtOnce)
    {
        var failure = new IOException("disk gone");
        var state = new DirectState<List<long>>(new FailingStorage(failure, throwsAtOnce), "pages", "page", Grain);
        foreach (var (operation, verb) in new (Func<Task>, string)[] { (state.ReadAsync, "read"), (state.WriteAsync, "write"), (state.ClearAsync, "clear") })
        {
            var error = await Assert.ThrowsAsync<OrleansException>(operation);
            Assert.Same(failure, error.InnerException);
            Assert.Equal($"Grain storage 'pages' failed to {verb} the state 'page' of {Grain}: disk gone", error.Message);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Our_own_and_Orleans_failures_pass_as_they_are(bool throwsAtOnce)
    {
        foreach (Exception failure in new Exception[] { new StorageUnavailableException("database down"), new InconsistentStateException("moved on", "2", "1") })
        {
            var state = new DirectState<List<long>>(new FailingStorage(failure, throwsAtOnce), "pages", "page", Grain);
            Assert.Same(failure, await Assert.ThrowsAnyAsync<Exception>(state.ReadAsync));
            Assert.Same(failure, await Assert.ThrowsAnyAsync<Exception>(state.WriteAsync));
            Assert.Same(failure, await Assert.ThrowsAnyAsync<Exception>(state.ClearAsync));
        }
    }

    /// <summary>A provider that fails every operation with one error, thrown at once or from the task it returns.</summary>
    private sealed class FailingStorage(Exception failure, bool throwsAtOnce) : IGrainStorage
    {
        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => Fail();

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => Fail();

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => Fail();

        private Task Fail() => throwsAtOnce ? throw failure : FailLaterAsync();

        private async Task FailLaterAsync()
        {
            await Task.Yield();
            throw failure;
        }
    }
}
