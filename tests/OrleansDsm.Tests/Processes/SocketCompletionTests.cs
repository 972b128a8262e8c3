using OrleansDsm.Silo.Hosting;

namespace OrleansDsm.Tests.Processes;

/// <summary>
/// The silo process runs its socket completions inline, as <see cref="InlineSocketCompletions"/> says, unless its
/// operator chose otherwise. Seen from outside by what the runtime does with the switch: it starts one socket event
/// thread per core when completions run inline, and one for up to 30 cores when they do not, each named ".NET Sockets".
/// On a one-core machine the two counts are the same, so only a machine with two cores or more tells them apart (CI's
/// has two).
/// </summary>
[Collection(SiloProcessCollection.Name)]
public sealed class SocketCompletionTests(SiloProcessFixture fixture)
{
    [Fact]
    public async Task The_silo_runs_socket_completions_on_one_event_thread_per_core()
    {
        await using var client = await fixture.Silo.ConnectAsync();

        Assert.Equal(Environment.ProcessorCount, SocketEventThreads(fixture.Silo.ProcessId));
    }

    [Fact]
    public async Task An_operator_who_turned_inline_completions_off_keeps_the_runtime_default()
    {
        await using var silo = await SiloProcess.StartWithEnvironmentAsync(new Dictionary<string, string> { [InlineSocketCompletions.Variable] = "0" });
        await using var client = await silo.ConnectAsync();

        Assert.Equal(1, SocketEventThreads(silo.ProcessId));
    }

    private static int SocketEventThreads(int processId) =>
        Directory.GetDirectories($"/proc/{processId}/task").Count(task => File.ReadAllText(Path.Combine(task, "comm")).Trim() == ".NET Sockets");
}
