using OrleansDsm.Tests.Processes;

namespace OrleansDsm.Tests.Samples;

/// <summary>
/// The three sample programs, run for real at small sizes against the real silo: each coordinator starts its worker
/// processes, and its verdict compares the answer they computed in shared memory with a sequential run. In Release and
/// Strict mode alike the answer is the sequential one, so the two modes give the same result.
/// </summary>
public sealed class SampleProgramTests(SiloProcessFixture fixture) : IClassFixture<SiloProcessFixture>
{
    [Theory]
    [InlineData("release")]
    [InlineData("strict")]
    [InlineData("mapped")]
    public async Task Jacobi_workers_sharing_the_grid_through_a_barrier_match_the_sequential_grid(string mode)
    {
        var result = await Run("Jacobi", "--workers", "2", "--size", "40", "--iterations", "12", "--mode", mode);
        Assert.Contains("verdict: correct: 0 of 1600 points differ from the sequential run", result.Stdout);
    }

    [Theory]
    [InlineData("release")]
    [InlineData("strict")]
    public async Task Histogram_workers_adding_into_shared_bins_match_the_sequential_count(string mode)
    {
        var result = await Run("Histogram", "--workers", "3", "--size", "30000", "--bins", "16", "--mode", mode);
        Assert.Contains("verdict: correct: 0 of 16 bins differ from the sequential count; 30000 values counted of 30000", result.Stdout);
    }

    [Theory]
    [InlineData("release")]
    [InlineData("strict")]
    public async Task Tsp_workers_sharing_a_locked_bound_and_queue_find_the_optimal_tour(string mode)
    {
        var result = await Run("Tsp", "--workers", "2", "--cities", "8", "--mode", mode);
        Assert.Contains("verdict: correct:", result.Stdout);
        Assert.Matches(@"shared best (\d+) over \[0( \d)+\] \(a tour: True, its length \1\); exhaustive search finds \1", result.Stdout);
    }

    [Fact]
    public async Task A_bad_argument_stops_a_sample_with_one_line_naming_it()
    {
        var result = await BuiltPrograms.RunAsync(
            BuiltPrograms.Dotnet(Dll("Jacobi"), ["--gateway", fixture.Silo.Gateway, "--mode", "sloppy"]), TimeSpan.FromSeconds(60));
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("jacobi: --mode is strict, release or mapped, not 'sloppy'", result.Stderr);

        var tooMany = await BuiltPrograms.RunAsync(
            BuiltPrograms.Dotnet(Dll("Jacobi"), ["--gateway", fixture.Silo.Gateway, "--size", "4", "--workers", "3"]), TimeSpan.FromSeconds(60));
        Assert.Equal(2, tooMany.ExitCode);
        Assert.Contains("--workers is at most 2", tooMany.Stderr);
    }

    private static string Dll(string sample) =>
        Path.Combine(BuiltPrograms.Output(Path.Combine("samples", sample)), $"OrleansDsm.Samples.{sample}.dll");

    private async Task<ProcessResult> Run(string sample, params string[] arguments)
    {
        var result = await BuiltPrograms.RunAsync(
            BuiltPrograms.Dotnet(Dll(sample), ["--gateway", fixture.Silo.Gateway, .. arguments]), TimeSpan.FromMinutes(3));
        Assert.True(result.ExitCode == 0, $"{sample} exited with {result.ExitCode}: {result.Stdout} {result.Stderr}");
        return result;
    }
}
