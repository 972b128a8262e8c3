using OrleansDsm.Grains.Persistence;

namespace OrleansDsm.Tests.Units;

public sealed class CoalescingWriterTests
{
    [Fact]
    public async Task Concurrent_requests_share_writes_and_each_waits_for_a_write_that_began_after_it()
    {
        var writesStarted = 0;
        var gate = new TaskCompletionSource();
        var writer = new CoalescingWriter(async () =>
        {
            writesStarted++;
            await gate.Task;
        });

        var first = writer.WriteAsync();           // starts write 1
        var second = writer.WriteAsync();          // must wait for a write after write 1
        var third = writer.WriteAsync();           // shares that next write
        Assert.Equal(1, writesStarted);
        Assert.False(second.IsCompleted);

        gate.SetResult();
        await Task.WhenAll(first, second, third);
        Assert.Equal(2, writesStarted);
    }

    [Fact]
    public async Task A_failed_write_fails_its_callers_and_the_next_request_writes_again()
    {
        var fail = true;
        var writes = 0;
        var writer = new CoalescingWriter(() =>
        {
            writes++;
            return fail ? Task.FromException(new InvalidOperationException("disk full")) : Task.CompletedTask;
        });

        await Assert.ThrowsAsync<InvalidOperationException>(writer.WriteAsync);
        fail = false;
        await writer.WriteAsync();
        Assert.Equal(2, writes);
    }
}
