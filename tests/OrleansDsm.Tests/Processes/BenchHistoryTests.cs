using System.Diagnostics;
using System.Text.RegularExpressions;

namespace OrleansDsm.Tests.Processes;

/// <summary>
/// <c>bench/history.sh</c>, which the README's ranges over earlier bench runs come from, reads the record's history as
/// the file holds it, and refuses what it cannot answer.
/// </summary>
public sealed partial class BenchHistoryTests
{
    [Fact]
    public async Task The_newest_run_it_prints_is_the_record_with_its_figures()
    {
        // The record as committed: a bench run not yet committed rewrites the file but not its history.
        var record = (await RunInRepositoryAsync("git", "show", "HEAD:bench/RESULTS.md")).Stdout;
        var date = DateLine().Match(record).Groups[1].Value;
        string Figure(string name) => Regex.Match(record, $@"^\| `{Regex.Escape(name)}` \| ([^ |]+) \|", RegexOptions.Multiline).Groups[1].Value;

        var result = await HistoryAsync("dsm.get.p50", "local.read_random");

        Assert.Equal(0, result.ExitCode);
        var newest = result.Stdout.Split('\n')[0].Split(' ');
        Assert.Equal(date, $"{newest[0]} {newest[1]}");
        Assert.Equal([Figure("dsm.get.p50"), Figure("local.read_random")], newest[3..]);
    }

    [Fact]
    public async Task Without_a_figure_it_prints_its_usage()
    {
        var result = await HistoryAsync();

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("usage: bench/history.sh FIGURE", result.Stderr);
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public async Task A_figure_no_run_has_is_named_in_its_error()
    {
        var result = await HistoryAsync("dsm.no_such_figure");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no full run in bench/RESULTS.md's history has any of: dsm.no_such_figure", result.Stderr);
        Assert.Equal("", result.Stdout);
    }

    private static Task<ProcessResult> HistoryAsync(params string[] figures) =>
        RunInRepositoryAsync("bash", [Path.Combine("bench", "history.sh"), .. figures]);

    private static Task<ProcessResult> RunInRepositoryAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = BuiltPrograms.RepositoryRoot.FullName,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        return BuiltPrograms.RunAsync(start, TimeSpan.FromMinutes(2));
    }

    [GeneratedRegex(@"^- Date: (\S+ \S+) UTC", RegexOptions.Multiline)]
    private static partial Regex DateLine();
}
