using System.Diagnostics;
using OrleansDsm.Tests.Processes;

namespace OrleansDsm.Tests.Mapping;

/// <summary>
/// How a mapping fails, seen from a process of its own (the test worker): a fault the cluster cannot serve ends the
/// process with a clear message within the fault timeout, never a hang; without userfaultfd, MapAsync says why.
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
        var start = BuiltPrograms.Dotnet(BuiltPrograms.WorkerDll, ["map-touch", silo.Gateway, "dsm", "orleans-dsm", region, "3", "00:00:03"]);
        start.RedirectStandardInput = true;
        using var worker = Process.Start(start)!;
        var stderr = worker.StandardError.ReadToEndAsync();
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
