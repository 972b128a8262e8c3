namespace OrleansDsm.Tests.Processes;

/// <summary>One real silo process shared by the tests that drive it from other processes.</summary>
public sealed class SiloProcessFixture : IAsyncLifetime
{
    public SiloProcess Silo { get; private set; } = null!;

    public async Task InitializeAsync() => Silo = await SiloProcess.StartAsync();

    public async Task DisposeAsync() => await Silo.DisposeAsync();

    /// <summary>Runs the real <c>dsm</c> tool against the silo.</summary>
    public Task<ProcessResult> Dsm(params string[] arguments) =>
        BuiltPrograms.RunAsync(BuiltPrograms.Dotnet(BuiltPrograms.CliDll, [.. arguments, "--gateway", Silo.Gateway]), TimeSpan.FromSeconds(60));

    /// <summary>Runs the real <c>dsm</c> tool against the silo with <paramref name="token"/> in its <c>DSM_TOKEN</c> environment variable.</summary>
    public Task<ProcessResult> DsmWithToken(string token, params string[] arguments)
    {
        var start = BuiltPrograms.Dotnet(BuiltPrograms.CliDll, [.. arguments, "--gateway", Silo.Gateway]);
        start.Environment["DSM_TOKEN"] = token;
        return BuiltPrograms.RunAsync(start, TimeSpan.FromSeconds(60));
    }
}

[CollectionDefinition(Name)]
public sealed class SiloProcessCollection : ICollectionFixture<SiloProcessFixture>
{
    public const string Name = "silo process";
}
