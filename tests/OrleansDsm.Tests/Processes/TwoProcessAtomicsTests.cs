namespace OrleansDsm.Tests.Processes;

/// <summary>Atomic adds from two separate client processes on the real silo lose nothing.</summary>
[Collection(SiloProcessCollection.Name)]
public sealed class TwoProcessAtomicsTests(SiloProcessFixture fixture)
{
    [Fact]
    public async Task Concurrent_adds_from_two_client_processes_end_exact()
    {
        var name = UniqueNames.For("two-proc");
        Assert.Equal(0, (await fixture.Dsm("alloc", name, "--type", "int64", "--length", "8")).ExitCode);
        const int addsPerProcess = 400;

        var workers = Enumerable.Range(0, 2).Select(_ => BuiltPrograms.RunAsync(
            BuiltPrograms.Dotnet(BuiltPrograms.WorkerDll, ["add", fixture.Silo.Gateway, "dsm", "orleans-dsm", name, "5", $"{addsPerProcess}", "16"]),
            TimeSpan.FromSeconds(120)));
        var results = await Task.WhenAll(workers);

        Assert.All(results, result => Assert.True(result.ExitCode == 0, result.Stderr));
        Assert.Equal($"{2 * addsPerProcess}", (await fixture.Dsm("get", name, "5")).Stdout);
    }
}
