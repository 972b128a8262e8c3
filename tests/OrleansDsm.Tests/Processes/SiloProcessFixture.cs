namespace OrleansDsm.Tests.Processes;

/// <summary>
/// One real silo process shared by the tests of a class (or of the small classes' collection) that drive it from
/// other processes. Several of these run at once: a single silo shared by all such tests made them one collection,
/// run one test after another, a chain of minutes at the end of the suite.
/// </summary>
public sealed class SiloProcessFixture : IAsyncLifetime
{
    private readonly Lock _connecting = new();
    private Task<DsmClient>? _client;

    public SiloProcess Silo { get; private set; } = null!;

    public async Task InitializeAsync() => Silo = await SiloProcess.StartAsync();

    public async Task DisposeAsync()
    {
        try
        {
            if (_client is { IsCompletedSuccessfully: true }) await _client.Result.DisposeAsync();
        }
        finally
        {
            await Silo.DisposeAsync();
        }
    }

    /// <summary>
    /// A client in this process, for a test's set-up and checks around the process it tests: starting the
    /// <c>dsm</c> tool costs over a second each time, an in-process call a millisecond.
    /// </summary>
    public Task<DsmClient> ClientAsync()
    {
        lock (_connecting) return _client ??= Silo.ConnectAsync();
    }

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

/// <summary>The small classes that drive a real silo from other processes share one.</summary>
[CollectionDefinition(Name)]
public sealed class SiloProcessCollection : ICollectionFixture<SiloProcessFixture>
{
    public const string Name = "silo process";
}
