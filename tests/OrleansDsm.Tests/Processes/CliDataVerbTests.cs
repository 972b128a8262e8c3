using System.Globalization;
using System.Text.Json;

namespace OrleansDsm.Tests.Processes;

/// <summary>The <c>dsm</c> verbs that move and show data (dump, watch, import, export), run for real against a real silo.</summary>
[Collection(SiloProcessCollection.Name)]
public sealed class CliDataVerbTests(SiloProcessFixture fixture)
{
    [Fact]
    public async Task Dump_prints_typed_values_hex_for_bytes_and_json_for_scripts()
    {
        var longs = await AllocAsync("int64", 10);
        Assert.Equal(0, (await fixture.Dsm("set", longs, "3", "-7")).ExitCode);
        Assert.Equal(0, (await fixture.Dsm("set", longs, "4", "9000000000")).ExitCode);

        Assert.Equal("2 0\n3 -7\n4 9000000000", Ok(await fixture.Dsm("dump", longs, "--from", "2", "--count", "3")));
        using (var json = JsonDocument.Parse(Ok(await fixture.Dsm("dump", longs, "--from", "3", "--count", "2", "--json"))))
            Assert.Equal(["-7", "9000000000"], json.RootElement.GetProperty("values").EnumerateArray().Select(value => value.GetString()));

        var bytes = await AllocAsync("uint8", 40);
        Assert.Equal(0, (await fixture.Dsm("set", bytes, "17", "171")).ExitCode);
        var lines = Ok(await fixture.Dsm("dump", bytes)).Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Equal("000000000010  00 ab 00 00 00 00 00 00 00 00 00 00 00 00 00 00", lines[1]);
    }

    [Fact]
    public async Task Stat_counts_touched_and_stored_pages_and_names_the_most_written_one()
    {
        // 4 KiB pages of 512 int64: elements 0 and 1 share the first page, element 1100 is on the third.
        var longs = await AllocAsync("int64", 4096);
        foreach (var (index, value) in new[] { ("0", "1"), ("1", "2"), ("0", "3"), ("1100", "4") })
            Assert.Equal(0, (await fixture.Dsm("set", longs, index, value)).ExitCode);

        using var json = JsonDocument.Parse(Ok(await fixture.Dsm("stat", longs, "--json")));
        var stat = json.RootElement;
        Assert.Equal(8, stat.GetProperty("pages").GetInt64());
        Assert.Equal(2, stat.GetProperty("pagesTouched").GetInt64());
        Assert.Equal(2, stat.GetProperty("pagesStored").GetInt32());
        Assert.Equal(2 * 4096, stat.GetProperty("bytesStored").GetInt64());
        var hottest = stat.GetProperty("hotPages")[0];
        Assert.Equal(3, hottest.GetProperty("version").GetInt64());
        Assert.StartsWith("0300000000000000", hottest.GetProperty("firstBytes").GetString());

        var text = Ok(await fixture.Dsm("stat", longs));
        Assert.Contains("touched      2 pages", text);
        Assert.Contains("stored       2 pages, 8192 bytes", text);
        Assert.Equal(2, (await fixture.Dsm("stat", longs, "--pages", "0")).ExitCode);
        Assert.Equal(1, (await fixture.Dsm("stat", longs + "-missing")).ExitCode);
    }

    [Fact]
    public async Task Bench_measures_the_cluster_and_frees_its_scratch_region()
    {
        var result = Ok(await fixture.Dsm("bench", "--ops", "200", "--outstanding", "8", "--json"));

        using var json = JsonDocument.Parse(result);
        Assert.Equal(200, json.RootElement.GetProperty("ops").GetInt32());
        Assert.True(json.RootElement.GetProperty("getP50Us").GetDouble() > 0);
        Assert.True(json.RootElement.GetProperty("getP99Us").GetDouble() >= json.RootElement.GetProperty("getP50Us").GetDouble());
        Assert.True(json.RootElement.GetProperty("getOpsPerSecond").GetDouble() > 0);
        Assert.DoesNotContain("dsm-bench-", Ok(await fixture.Dsm("ls")));
        Assert.Equal(2, (await fixture.Dsm("bench", "--ops", "0")).ExitCode);
    }

    [Theory]
    [InlineData("--from", "11")]
    [InlineData("--from", "-1")]
    [InlineData("--from", "8", "--count", "3")]
    [InlineData("--count", "-2")]
    [InlineData("--count", "99999999")]
    public async Task Dump_refuses_a_stretch_outside_the_region(params string[] options)
    {
        var longs = await AllocAsync("int64", 10);
        var result = await fixture.Dsm(["dump", longs, .. options]);
        Assert.Equal(2, result.ExitCode);
        Assert.Single(result.Stderr.Split('\n'));
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task Watch_prints_the_value_and_then_each_change_another_process_makes()
    {
        var counters = await AllocAsync("int32", 4);
        var watch = fixture.Dsm("watch", counters, "2", "--changes", "2", "--for", "00:01:00", "--json");
        // The watcher may read its first value before or after a set: keep setting until it has seen two changes.
        for (var value = 1; !watch.IsCompleted && value < 200; value++)
        {
            Assert.Equal(0, (await fixture.Dsm("set", counters, "2", value.ToString(CultureInfo.InvariantCulture))).ExitCode);
            await Task.WhenAny(watch, Task.Delay(300));
        }

        var lines = Ok(await watch).Split('\n').Select(line => JsonDocument.Parse(line).RootElement.GetProperty("value").GetString()!).Select(int.Parse).ToArray();
        Assert.Equal(3, lines.Length);
        Assert.True(lines[0] < lines[1] && lines[1] < lines[2], string.Join(", ", lines));
    }

    [Theory]
    [InlineData("raw")]
    [InlineData("csv")]
    public async Task Export_then_import_into_another_region_copies_every_element(string format)
    {
        var source = await AllocAsync("float64", 300_000);
        var target = await AllocAsync("float64", 300_000);
        foreach (var (index, value) in new[] { ("0", "0.1"), ("131071", "-1E+300"), ("299999", "3.141592653589793") })
            Assert.Equal(0, (await fixture.Dsm("set", source, index, value)).ExitCode);
        var file = Path.Combine(Path.GetTempPath(), $"{source}.{format}");
        try
        {
            Assert.Contains("exported 300000 elements", Ok(await fixture.Dsm("export", source, file, "--format", format)));
            Assert.Contains("imported 300000 elements", Ok(await fixture.Dsm("import", target, file, "--format", format)));

            Assert.Equal("0.1", Ok(await fixture.Dsm("get", target, "0")));
            Assert.Equal("-1E+300", Ok(await fixture.Dsm("get", target, "131071")));
            Assert.Equal("3.141592653589793", Ok(await fixture.Dsm("get", target, "299999")));
            Assert.False(File.Exists(file + ".dsm-progress"));
            if (format == "raw") Assert.Equal(300_000 * 8, new FileInfo(file).Length);
            else Assert.Equal(300_000, File.ReadLines(file).Count());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task An_import_resumes_where_its_progress_file_says_it_stopped()
    {
        var target = await AllocAsync("int32", 6);
        var file = Path.Combine(Path.GetTempPath(), $"{target}.csv");
        await File.WriteAllTextAsync(file, "10\n20\n30\n40\n");
        // A failed import that had written two elements: the region holds other values there, which a resume leaves.
        Assert.Equal(0, (await fixture.Dsm("set", target, "0", "-1")).ExitCode);
        await File.WriteAllTextAsync(file + ".dsm-progress", "2 0");
        try
        {
            Ok(await fixture.Dsm("import", target, file, "--format", "csv", "--resume"));

            Assert.Equal("0 -1\n1 0\n2 30\n3 40\n4 0", Ok(await fixture.Dsm("dump", target, "--count", "5")));
            Assert.False(File.Exists(file + ".dsm-progress"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task An_import_killed_midway_resumes_and_the_region_ends_equal_to_the_file()
    {
        const int Length = 64 << 20;
        var target = UniqueNames.For("cli-resume");
        var token = Ok(await fixture.Dsm("alloc", target, "--type", "uint8", "--length", Length.ToString(CultureInfo.InvariantCulture)))
            .Split('\n').Single(line => line.StartsWith("owner token: ", StringComparison.Ordinal))["owner token: ".Length..].Trim();
        var file = Path.Combine(Path.GetTempPath(), $"{target}.raw");
        var content = new byte[Length];
        new Random(5).NextBytes(content);
        await File.WriteAllBytesAsync(file, content);
        try
        {
            var start = BuiltPrograms.Dotnet(BuiltPrograms.CliDll, ["import", target, file, "--format", "raw", "--gateway", fixture.Silo.Gateway]);
            using (var import = System.Diagnostics.Process.Start(start)!)
            {
                // Killed (SIGKILL, no clean-up) as soon as its first chunk is recorded, with most of the file to go.
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
                while (!File.Exists(file + ".dsm-progress") && !import.HasExited && DateTime.UtcNow < deadline) await Task.Delay(2);
                import.Kill(entireProcessTree: true);
                await import.WaitForExitAsync();
            }
            var progress = (await File.ReadAllTextAsync(file + ".dsm-progress")).Split(' ');
            Assert.InRange(long.Parse(progress[0]), 1, Length - 1);

            Assert.Contains($"imported {Length} elements", Ok(await fixture.Dsm("import", target, file, "--format", "raw", "--resume")));

            Assert.False(File.Exists(file + ".dsm-progress"));
            var exported = file + ".back";
            try
            {
                Ok(await fixture.Dsm("export", target, exported, "--format", "raw"));
                var back = await File.ReadAllBytesAsync(exported);
                Assert.True(content.AsSpan().SequenceEqual(back), "the region differs from the file");
            }
            finally
            {
                File.Delete(exported);
            }
        }
        finally
        {
            File.Delete(file);
            File.Delete(file + ".dsm-progress");
            Assert.Equal(0, (await fixture.DsmWithToken(token, "free", target)).ExitCode); // 64 MiB the shared silo need not keep
        }
    }

    [Fact]
    public async Task An_export_resumes_after_the_bytes_its_progress_file_counts()
    {
        var source = await AllocAsync("int64", 3);
        for (var i = 0; i < 3; i++) Assert.Equal(0, (await fixture.Dsm("set", source, $"{i}", $"{i + 5}")).ExitCode);
        var file = Path.Combine(Path.GetTempPath(), $"{source}.csv");
        // One element saved, then half of a second line the failure cut off.
        await File.WriteAllTextAsync(file, "5\n6");
        await File.WriteAllTextAsync(file + ".dsm-progress", "1 2");
        try
        {
            Ok(await fixture.Dsm("export", source, file, "--format", "csv", "--resume"));
            Assert.Equal("5\n6\n7\n", await File.ReadAllTextAsync(file));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("csv", "1\n2\nthree\n", "Line 3")]
    [InlineData("csv", "1\n2\n3\n4\n5\n6\n7\n", "room for 6")]
    [InlineData("raw", "abcde", "whole number")]
    [InlineData("csv", "1\n2.5\n", "Line 2")]
    public async Task A_bad_import_file_is_refused_before_anything_is_written(string format, string content, string named)
    {
        var target = await AllocAsync("int32", 6);
        Assert.Equal(0, (await fixture.Dsm("set", target, "0", "99")).ExitCode);
        var file = Path.Combine(Path.GetTempPath(), $"{target}.{format}");
        await File.WriteAllTextAsync(file, content);
        try
        {
            var result = await fixture.Dsm("import", target, file, "--format", format);

            Assert.Equal(2, result.ExitCode);
            Assert.Contains(named, result.Stderr);
            Assert.Equal("0 99\n1 0\n2 0\n3 0\n4 0\n5 0", Ok(await fixture.Dsm("dump", target)));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Resume_without_a_progress_file_and_missing_files_are_refused()
    {
        var target = await AllocAsync("int32", 6);
        var missing = Path.Combine(Path.GetTempPath(), $"{target}.nothing");

        var import = await fixture.Dsm("import", target, missing);
        Assert.Equal(2, import.ExitCode);
        Assert.Contains("no file", import.Stderr);

        var resume = await fixture.Dsm("export", target, missing, "--resume");
        Assert.Equal(2, resume.ExitCode);
        Assert.Contains("no unfinished export", resume.Stderr);
        Assert.False(File.Exists(missing));
    }

    private async Task<string> AllocAsync(string type, long length)
    {
        var name = UniqueNames.For("cli-data");
        Ok(await fixture.Dsm("alloc", name, "--type", type, "--length", length.ToString(CultureInfo.InvariantCulture)));
        return name;
    }

    private static string Ok(ProcessResult result)
    {
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Stderr}");
        return result.Stdout;
    }
}
