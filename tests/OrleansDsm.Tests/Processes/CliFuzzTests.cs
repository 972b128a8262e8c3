using CsCheck;

namespace OrleansDsm.Tests.Processes;

/// <summary>
/// Hostile input on the <c>dsm</c> tool: random command lines of its data verbs (and unknown ones), with names,
/// numbers and options that are right, wrong or nonsense, run for real against a real silo. Each run ends with a
/// documented exit code, never with a stack trace; a failure prints one line starting "dsm: "; and a run that failed
/// leaves a region the tool was aimed at exactly as it was.
/// </summary>
[Collection(SiloProcessCollection.Name)]
public sealed class CliFuzzTests(SiloProcessFixture fixture)
{
    private const int Runs = 60;
    private const int TargetLength = 64;

    private static readonly string[] Verbs = ["get", "set", "add", "dump", "stat", "alloc", "ls", "frobnicate", ""];

    [Fact]
    public async Task Random_command_lines_end_with_a_documented_exit_code_and_failed_ones_change_nothing()
    {
        var target = UniqueNames.For("cli-fuzz");
        await using var client = await fixture.Silo.ConnectAsync();
        var array = await client.AllocateAsync<int>(target, TargetLength);
        await array.WriteAsync(0, Enumerable.Range(1, TargetLength).ToArray());
        string[] tokens =
        [
            target, target + "-new", "no-such-region", "bad/name", "", " ", "-dash", new string('x', 200),
            "0", "3", "63", "64", "-1", "9223372036854775807", "9223372036854775808", "-9223372036854775809", "1e3", "0x10", "1.5", "NaN", "abc",
            "--from", "--count", "--json", "--type", "int32", "float64", "uint8", "decimal", "--length", "--pages", "--bogus", "--help", "-h",
        ];
        var commandLines =
            from verb in Gen.Int[0, Verbs.Length - 1].Select(i => Verbs[i])
            from rest in Gen.Int[0, tokens.Length - 1].Select(i => tokens[i]).Array[0, 5]
            select rest.Prepend(verb).Where(argument => argument.Length > 0 || verb.Length > 0).ToArray();
        var runs = 0;

        await commandLines.SampleAsync(async arguments =>
        {
            var before = await ContentsAsync(array);
            var result = await fixture.Dsm(arguments);
            var shown = string.Join(' ', arguments.Select(argument => $"'{argument}'"));

            Assert.True(result.ExitCode is 0 or 1 or 2 or 3, $"dsm {shown} exited with {result.ExitCode}: {result.Stderr}");
            Assert.DoesNotContain("Unhandled exception", result.Stderr);
            Assert.DoesNotContain("   at ", result.Stderr);
            if (result.ExitCode != 0)
            {
                var line = Assert.Single(result.Stderr.Split('\n'));
                Assert.StartsWith("dsm: ", line);
                Assert.Equal(before, await ContentsAsync(array));
            }
            runs++;
        }, iter: Runs, threads: 1);

        Assert.True(runs >= Runs, $"only {runs} command lines ran");
        foreach (var region in await client.ListAsync())
            if (region.Name.StartsWith(target + "-", StringComparison.Ordinal)) await client.FreeAsync(region.Name);
    }

    private static async Task<int[]> ContentsAsync(SharedArray<int> array)
    {
        var contents = new int[TargetLength];
        await array.ReadAsync(0, contents);
        return contents;
    }
}
