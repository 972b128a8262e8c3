using System.Diagnostics;
using OrleansDsm.Tests.Fixtures;
using OrleansDsm.Tests.Processes;

namespace OrleansDsm.Tests.Mapping;

/// <summary>
/// How a mapping fails, seen from a process of its own (the test worker): a fault the cluster cannot serve ends the
/// process with a clear message within the fault timeout, never a hang, and so does its pager's death while it maps
/// (and only then); pages read ahead that arrive after an unmap, or cannot be fetched at all, are dropped, not fatal,
/// while no thread waits for them; without userfaultfd, MapAsync says why.
/// </summary>
public sealed class MappingFailureTests
{
    [Fact]
    public async Task A_fault_with_the_silo_gone_ends_the_mapping_process_with_a_clear_message_within_the_timeout()
    {
        var silo = await SiloProcess.StartAsync("--Silo:Dashboard=false");
        await using var siloLifetime = silo;
        var region = UniqueNames.For("orphaned");
        await using (var client = await silo.ConnectAsync()) await client.AllocateAsync<byte>(region, 16 * 4096);
        using var owned = OwnedProcess.StartWorker("map-touch", silo.Gateway, "dsm", "orleans-dsm", region, "3", "00:00:03");
        var (worker, stderr) = (owned.Process, owned.ErrorOutput);
        Assert.Equal("mapped", await worker.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)));

        await silo.KillAsync();
        var touched = Stopwatch.StartNew();
        await worker.StandardInput.WriteLineAsync();
        await worker.StandardInput.FlushAsync();
        var rest = worker.StandardOutput.ReadToEndAsync();
        await Task.WhenAny(worker.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(30)));

        Assert.True(worker.HasExited, "the process touching a page no silo can serve did not end: a hang");
        Assert.True(touched.Elapsed < TimeSpan.FromSeconds(20), $"it ended {touched.Elapsed} after the touch");
        Assert.Equal(128 + 9, worker.ExitCode); // SIGKILL, from the pager
        Assert.DoesNotContain("value", await rest);
        Assert.Contains("OrleansDsm pager: page 3 of the mapped region could not be fetched within 3 s", await stderr);
        Assert.Contains("since a load from memory cannot fail", await stderr);
    }

    [Fact]
    public async Task A_pager_killed_from_outside_ends_the_process_whose_mapping_it_served()
    {
        await using var silo = await SiloProcess.StartAsync("--Silo:Dashboard=false");
        var region = UniqueNames.For("pager-killed");
        await using (var client = await silo.ConnectAsync()) await client.AllocateAsync<byte>(region, 16 * 4096);
        using var owned = OwnedProcess.StartWorker("map-touch", silo.Gateway, "dsm", "orleans-dsm", region, "3", "00:00:30");
        var (worker, stderr) = (owned.Process, owned.ErrorOutput);
        Assert.Equal("mapped", await worker.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)));

        using (var pager = Process.GetProcessById(Assert.Single(PagerProcesses.ChildrenOf(worker.Id)))) pager.Kill();
        await Task.WhenAny(worker.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(20)));

        // Without its pager, the worker's next touch of page 3 would wait for good: it is ended before it makes one.
        Assert.True(worker.HasExited, "the process whose pager was killed was left running, its next fault to wait for good");
        Assert.Equal(128 + 9, worker.ExitCode); // SIGKILL, from the pager's watcher
        Assert.Contains($"OrleansDsm pager: the pager process ended without a word (killed or crashed); killing process {worker.Id}", await stderr);
    }

    [Fact]
    public async Task A_pager_killed_after_its_last_unmap_leaves_its_client_alone()
    {
        await using var silo = await SiloProcess.StartAsync("--Silo:Dashboard=false");
        var region = UniqueNames.For("pager-idle");
        await using (var client = await silo.ConnectAsync()) await client.AllocateAsync<byte>(region, 4096);
        using var owned = OwnedProcess.StartWorker("map-idle", silo.Gateway, "dsm", "orleans-dsm", region);
        var (worker, stderr) = (owned.Process, owned.ErrorOutput);
        Assert.Equal("value 0", await worker.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal("unmapped", await worker.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)));

        using (var pager = Process.GetProcessById(Assert.Single(PagerProcesses.ChildrenOf(worker.Id)))) pager.Kill();
        await Task.Delay(TimeSpan.FromSeconds(2)); // the watcher, had it been armed, acts within milliseconds
        if (worker.HasExited) Assert.Fail($"the worker was ended (exit {worker.ExitCode}) though it had unmapped its region: {await stderr}");
        await worker.StandardInput.WriteLineAsync();
        await worker.StandardInput.FlushAsync();
        var rest = await worker.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await worker.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(worker.ExitCode == 0, $"exit {worker.ExitCode}: {rest} {await stderr}");
        Assert.Equal("alive", rest.Trim());
        Assert.DoesNotContain("OrleansDsm pager", await stderr);
    }

    [Fact]
    public async Task Unmapping_while_pages_read_ahead_are_in_flight_leaves_the_process_alive()
    {
        await using var silo = await SiloProcess.StartAsync("--Silo:Dashboard=false");
        var region = UniqueNames.For("unmapped-ahead");
        await using (var client = await silo.ConnectAsync())
        {
            var array = await client.AllocateAsync<byte>(region, 512 * 4096);
            await array.SetAsync(0, 2);
            await array.SetAsync(4096, 3);
        }

        var start = BuiltPrograms.Dotnet(BuiltPrograms.WorkerDll, ["map-unmap", silo.Gateway, "dsm", "orleans-dsm", region, "20"]);
        var result = await BuiltPrograms.RunAsync(start, TimeSpan.FromSeconds(120));

        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Stdout} {result.Stderr}");
        Assert.Equal("done 100", result.Stdout.Trim());
        Assert.DoesNotContain("OrleansDsm pager", result.Stderr);
    }

    [Fact]
    public async Task Pages_read_ahead_that_cannot_be_fetched_end_nothing_while_no_thread_waits_for_them()
    {
        await using var postgres = await PostgresServer.StartAsync();
        var database = await postgres.CreateDatabaseAsync("ahead-damaged");
        string[] arguments = ["--Silo:Storage=PostgreSQL", $"--Silo:ConnectionString={database}", "--Silo:Dashboard=false"];
        int siloPort, gatewayPort;
        var region = UniqueNames.For("ahead-damaged");
        await using (var silo = await SiloProcess.StartAsync(arguments))
        {
            (siloPort, gatewayPort) = (silo.SiloPort, silo.GatewayPort);
            await using var client = await silo.ConnectAsync();
            var array = await client.AllocateAsync<byte>(region, 10 * 4096);
            // Pages 2 to 9 only: pages 0 and 1, never written, have no row and read as zeros.
            await array.WriteAsync(2 * 4096, Enumerable.Repeat((byte)7, 8 * 4096).ToArray());
        } // SIGKILL
        // Every stored page loses half its record, so each one read ahead fails to load (a CorruptPageException).
        await PostgresServer.ExecuteAsync(database, "UPDATE dsm_pages SET payload = substring(payload FROM 1 FOR octet_length(payload) / 2)");
        Assert.Equal(8, await PostgresServer.ScalarAsync(database, "SELECT count(*) FROM dsm_pages"));
        await using var restarted = await SiloProcess.StartOnPortsAsync(siloPort, gatewayPort, arguments);

        using var owned = OwnedProcess.StartWorker("map-ahead", restarted.Gateway, "dsm", "orleans-dsm", region, "00:00:02");
        var (worker, stderr) = (owned.Process, owned.ErrorOutput);
        Assert.Equal("touched", await worker.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)));
        // Past the fault timeout and the pager's look at overdue fetches, which end the process when a thread waits.
        await Task.Delay(TimeSpan.FromSeconds(3));
        await worker.StandardInput.WriteLineAsync();
        await worker.StandardInput.FlushAsync();
        var rest = await worker.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await worker.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(worker.ExitCode == 0, $"exit {worker.ExitCode}: {rest} {await stderr}");
        Assert.DoesNotContain("OrleansDsm pager", await stderr);
        // Pages 2 to 9 were read ahead of the touch of page 1, and none of them arrived.
        Assert.Equal("ahead 0 sum 0", rest.Trim());
    }

    [Fact]
    public async Task Mapping_without_userfaultfd_fails_with_the_documented_error_and_the_array_still_works()
    {
        Assert.True(Environment.UserName == "root", "this test runs a worker as user nobody, which needs root");
        const string Sysctl = "/proc/sys/vm/unprivileged_userfaultfd";
        var before = (await File.ReadAllTextAsync(Sysctl)).Trim();
        await using var silo = await SiloProcess.StartAsync("--Silo:Dashboard=false");
        var region = UniqueNames.For("unmappable");
        await using var client = await silo.ConnectAsync();
        var array = await client.AllocateAsync<byte>(region, 4096);
        try
        {
            // Unprivileged processes may not have kernel-mode userfaultfd while this is 0 (its default); written only
            // when it is not, since a container's /proc/sys may be read-only.
            if (before != "0") await File.WriteAllTextAsync(Sysctl, "0");
            var start = BuiltPrograms.Dotnet(BuiltPrograms.WorkerDll, ["map-try", silo.Gateway, "dsm", "orleans-dsm", region]);
            string[] asNobody = ["-u", "nobody", "--", start.FileName, .. start.ArgumentList];
            start.FileName = "runuser";
            start.ArgumentList.Clear();
            foreach (var argument in asNobody) start.ArgumentList.Add(argument);
            start.Environment["HOME"] = Path.GetTempPath();
            var result = await BuiltPrograms.RunAsync(start, TimeSpan.FromSeconds(60));

            Assert.True(result.ExitCode == 4, $"exit {result.ExitCode}: {result.Stdout} {result.Stderr}");
            Assert.Contains("userfaultfd is not available to this process", result.Stderr);
            Assert.Contains("vm.unprivileged_userfaultfd=1", result.Stderr);
        }
        finally
        {
            if (before != "0") await File.WriteAllTextAsync(Sysctl, before);
        }
        await array.SetAsync(1, 5);
        Assert.Equal(5, await array.GetAsync(1));
    }
}
