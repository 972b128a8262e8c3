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
/// the provider's ETag so that a stale activation's write is refused, moves with its grain (ETag included, nothing
/// read), and reports a provider's failure the way Orleans' persistent state did, our own and Orleans' errors as they
/// are and any other inside an OrleansException.
/// </summary>
public sealed class DirectStateTests
{
    private static readonly GrainId Grain = GrainId.Create("page", "12");

    private static readonly Serializer Serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();

    private readonly SiloMemoryStorage _memory = new(new ExactSizeStorageSerializer(Serializer));

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

    [Fact]
    public async Task A_state_that_moves_with_its_grain_is_taken_over_with_its_ETag_and_without_reading_storage()
    {
        var leaving = new DirectState<List<long>>(_memory, "pages", "page", Grain);
        await leaving.ReadAsync();
        leaving.State = [5];
        await leaving.WriteAsync();
        var context = new MigrationContext(Serializer);
        leaving.Dehydrate(context);

        // Storage that fails every read: the arriving activation reads none.
        var unread = new DirectState<List<long>>(new FailingStorage(new IOException("read"), throwsAtOnce: true), "pages", "page", Grain);
        unread.Rehydrate(context);
        await unread.ReadAsync();
        Assert.Equal([5], unread.State);
        Assert.True(unread.RecordExists);

        // The ETag came along: the arriving activation writes over the record, after which the one that left cannot.
        var arriving = new DirectState<List<long>>(_memory, "pages", "page", Grain);
        arriving.Rehydrate(context);
        await arriving.ReadAsync();
        arriving.State = [6];
        await arriving.WriteAsync();
        await Assert.ThrowsAsync<InconsistentStateException>(leaving.WriteAsync);
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

    /// <summary>What Orleans hands from a leaving activation to the arriving one, serialized as Orleans sends it.</summary>
    private sealed class MigrationContext(Serializer serializer) : IDehydrationContext, IRehydrationContext
    {
        private readonly Dictionary<string, object?> _values = [];

        public IEnumerable<string> Keys => _values.Keys;

        public void AddBytes(string key, ReadOnlySpan<byte> value) => _values[key] = value.ToArray();

        public void AddBytes<T>(string key, Action<T, System.Buffers.IBufferWriter<byte>> valueWriter, T value)
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            valueWriter(value, buffer);
            _values[key] = buffer.WrittenMemory.ToArray();
        }

        public bool TryAddValue<T>(string key, T? value) => _values.TryAdd(key, serializer.SerializeToArray(value));

        public bool TryGetBytes(string key, out System.Buffers.ReadOnlySequence<byte> value)
        {
            value = _values.GetValueOrDefault(key) is byte[] bytes ? new(bytes) : default;
            return _values.ContainsKey(key);
        }

        public bool TryGetValue<T>(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out T? value)
        {
            var found = _values.TryGetValue(key, out var stored);
            value = found ? serializer.Deserialize<T>((byte[])stored!) : default;
            return found;
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
