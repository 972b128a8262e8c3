using System.Text.Json;

namespace OrleansDsm.Tests.Processes;

/// <summary>
/// The <c>dsm</c> verbs that move and show data (dump, watch, import, export), run for real against a real silo. A
/// test sets up and checks its regions through a client in this process, so only the verb under test starts the tool.
/// </summary>
public sealed class CliDataVerbTests(SiloProcessFixture fixture) : IClassFixture<SiloProcessFixture>
{
    [Fact]
    public async Task Dump_prints_typed_values_hex_for_bytes_and_json_for_scripts()
    {
        var longArray = await AllocAsync<long>(10);
        var longs = longArray.Name;
        await longArray.SetAsync(3, -7);
        await longArray.SetAsync(4, 9_000_000_000);

        Assert.Equal("2 0\n3 -7\n4 9000000000", Ok(await fixture.Dsm("dump", longs, "--from", "2", "--count", "3")));
        using (var json = JsonDocument.Parse(Ok(await fixture.Dsm("dump", longs, "--from", "3", "--count", "2", "--json"))))
            Assert.Equal(["-7", "9000000000"], json.RootElement.GetProperty("values").EnumerateArray().Select(value => value.GetString()));

        var bytes = await AllocAsync<byte>(40);
        await bytes.SetAsync(17, 171);
        var lines = Ok(await fixture.Dsm("dump", bytes.Name)).Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Equal("000000000010  00 ab 00 00 00 00 00 00 00 00 00 00 00 00 00 00", lines[1]);
    }

    [Fact]
    public async Task A_watch_whose_cluster_dies_ends_with_the_unreachable_exit_code_and_no_promise_to_retry()
    {
        await using var silo = await SiloProcess.StartAsync("--Silo:Dashboard=false");
        var name = UniqueNames.For("cli-orphan");
        await using (var client = await silo.ConnectAsync()) await client.AllocateAsync<long>(name, 4);

        using var watch = System.Diagnostics.Process.Start(BuiltPrograms.Dotnet(BuiltPrograms.CliDll, ["watch", name, "1", "--for", "5m", "--gateway", silo.Gateway]))!;
        var stderr = watch.StandardError.ReadToEndAsync();
        try
        {
            // Once it has printed the value it watches, it is connected: the silo's death comes while it waits.
            Assert.Equal("0", await watch.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)));
            await silo.KillAsync();
            // The client tries again for its retry budget (30 s), then the tool gives up.
            await watch.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        }
        finally
        {
            if (!watch.HasExited) watch.Kill(entireProcessTree: true);
        }

        Assert.Equal(3, watch.ExitCode);
        var line = Assert.Single((await stderr).TrimEnd().Split('\n'));
        Assert.StartsWith("dsm: The cluster stopped answering: ", line);
        Assert.DoesNotContain("will retry", line);
    }

    [Theory]
    [InlineData("strict", "Strict")]
    [InlineData("release", "Release")]
    [InlineData("uncached", "Uncached")]
    [InlineData("bounded:250ms", "Bounded(00:00:00.2500000)")]
    public async Task Alloc_takes_a_consistency_and_a_file_goes_in_and_out_of_a_region_of_each(string option, string model)
    {
        var name = UniqueNames.For("cli-model");
        using (var allocated = JsonDocument.Parse(Ok(await fixture.Dsm("alloc", name, "--type", "int32", "--length", "5000", "--consistency", option, "--json"))))
            Assert.Equal(model, allocated.RootElement.GetProperty("consistency").GetString());
        var client = await fixture.ClientAsync();
        Assert.Equal(model, (await client.DescribeAsync(name)).Consistency.ToString());

        var values = Enumerable.Range(0, 5000).Select(i => i * 7 - 3).ToArray();
        var file = Path.Combine(Path.GetTempPath(), $"{name}.raw");
        try
        {
            await File.WriteAllBytesAsync(file, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
            Ok(await fixture.Dsm("import", name, file));
            Assert.Equal(values, await ContentsAsync(await client.OpenAsync<int>(name)));
            File.Delete(file);
            Ok(await fixture.Dsm("export", name, file));
            Assert.Equal(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), await File.ReadAllBytesAsync(file));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Export_and_import_move_a_region_of_an_apps_own_type_as_raw_bytes_and_refuse_csv_for_it()
    {
        var source = await AllocAsync<Pair>(3000); // 24,000 bytes: six pages
        await source.SetAsync(0, new Pair { Left = 1, Right = 2 });
        await source.SetAsync(2999, new Pair { Left = -3, Right = 4 });
        var file = Path.Combine(Path.GetTempPath(), $"{source.Name}.bin");
        try
        {
            Assert.Contains("exported 3000 elements", Ok(await fixture.Dsm("export", source.Name, file)));
            Assert.Equal(3000 * 8, new FileInfo(file).Length);
            var target = await AllocAsync<Pair>(3000);
            Assert.Contains("imported 3000 elements", Ok(await fixture.Dsm("import", target.Name, file)));
            Assert.Equal(await ContentsAsync(source), await ContentsAsync(target));

            // CSV would need the values as numbers: refused before anything is written, naming the type.
            var csv = await fixture.Dsm("export", source.Name, file + ".csv");
            Assert.Equal((2, $"dsm: CSV needs numbers, and region '{source.Name}' holds {typeof(Pair).FullName}: use --format raw."), (csv.ExitCode, csv.Stderr));
            Assert.False(File.Exists(file + ".csv"));
            var csvIn = await fixture.Dsm("import", target.Name, file, "--format", "csv");
            Assert.Equal(2, csvIn.ExitCode);
            Assert.Equal(await ContentsAsync(source), await ContentsAsync(target));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential, Size = 4096)]
    private struct PageSized
    {
        public byte First;
    }

    [Fact]
    public async Task Dump_prints_each_element_of_an_apps_own_type_as_its_bytes_in_hex()
    {
        var samples = await AllocAsync<Pair>(4);
        await samples.SetAsync(2, new Pair { Left = 0x01020304, Right = -2 }); // little-endian: 04030201 feffffff

        Assert.Equal("1 0000000000000000\n2 04030201feffffff", Ok(await fixture.Dsm("dump", samples.Name, "--from", "1", "--count", "2")));
        using (var json = JsonDocument.Parse(Ok(await fixture.Dsm("dump", samples.Name, "--from", "2", "--count", "1", "--json"))))
        {
            Assert.Equal(typeof(Pair).FullName, json.RootElement.GetProperty("type").GetString());
            Assert.Equal(["04030201feffffff"], json.RootElement.GetProperty("elementBytes").EnumerateArray().Select(value => value.GetString()));
        }
        // A dump's bytes are bounded as the largest numeric dump's are (8 MiB), whatever the element's size.
        var pages = await AllocAsync<PageSized>(3000);
        var tooMuch = await fixture.Dsm("dump", pages.Name, "--count", "2049");
        Assert.Equal((2, "dsm: --count 2049 of 4096-byte elements is more than a dump prints (8388608 bytes); dump a shorter stretch."), (tooMuch.ExitCode, tooMuch.Stderr));
        // Values the tool would have to print or parse as numbers are refused, naming the type.
        var get = await fixture.Dsm("get", samples.Name, "2");
        Assert.Equal(2, get.ExitCode);
        Assert.Contains($"dsm cannot handle elements of type '{typeof(Pair).FullName}'", get.Stderr);
    }

    [Fact]
    public async Task Stat_counts_touched_and_stored_pages_and_names_the_most_written_one()
    {
        // 4 KiB pages of 512 int64: elements 0 and 1 share the first page, element 1100 is on the third.
        var longs = (await AllocAsync<long>(4096)).Name;
        // Set by the tool, whose start takes longer than the silo's 1 s write-behind interval: each write is stored by the stat.
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
        // One silo here: both examined pages are active on it.
        var silo = Assert.Single(stat.GetProperty("pagesBySilo").EnumerateObject());
        Assert.Equal(2, silo.Value.GetInt32());

        var text = Ok(await fixture.Dsm("stat", longs));
        Assert.Contains("touched      2 pages", text);
        Assert.Contains("stored       2 pages, 8192 bytes", text);
        // One of a thing is singular.
        var first = Ok(await fixture.Dsm("stat", longs, "--pages", "1"));
        Assert.Contains("stored       1 page, 4096 bytes (of the 1 page examined)", first);
        Assert.Contains(first.Split('\n'), line => line.StartsWith("on silo ", StringComparison.Ordinal) && line.EndsWith(": 1 page", StringComparison.Ordinal));
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
        // One call is one call, and no more can be in flight than there are calls.
        var one = Ok(await fixture.Dsm("bench", "--ops", "1", "--outstanding", "8")).Split('\n');
        Assert.EndsWith("(1 call, one at a time)", one[0]);
        Assert.EndsWith("(1 in flight)", one[2]);
    }

    [Theory]
    [InlineData("--from", "11")]
    [InlineData("--from", "-1")]
    [InlineData("--from", "8", "--count", "3")]
    [InlineData("--count", "-2")]
    [InlineData("--count", "99999999")]
    public async Task Dump_refuses_a_stretch_outside_the_region(params string[] options)
    {
        var longs = await AllocAsync<long>(10);
        var result = await fixture.Dsm(["dump", longs.Name, .. options]);
        Assert.Equal(2, result.ExitCode);
        Assert.Single(result.Stderr.Split('\n'));
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task Watch_prints_the_value_and_then_each_change_another_process_makes()
    {
        var counters = await AllocAsync<int>(4);
        var watch = fixture.Dsm("watch", counters.Name, "2", "--changes", "2", "--for", "1m", "--json");
        // The watcher may read its first value before or after a set: keep setting until it has seen two changes.
        for (var value = 1; !watch.IsCompleted && value < 200; value++)
        {
            await counters.SetAsync(2, value);
            await Task.WhenAny(watch, Task.Delay(300));
        }

        var lines = Ok(await watch).Split('\n').Select(line => JsonDocument.Parse(line).RootElement.GetProperty("value").GetString()!).Select(int.Parse).ToArray();
        Assert.Equal(3, lines.Length);
        Assert.True(lines[0] < lines[1] && lines[1] < lines[2], string.Join(", ", lines));
    }

    [Theory]
    [InlineData("1500ms")]
    [InlineData("1.5s")]
    [InlineData("00:00:01.5")]
    public async Task Watch_for_a_duration_prints_the_value_and_stops_when_it_has_passed(string duration)
    {
        var counters = await AllocAsync<int>(4);
        await counters.SetAsync(1, 7);

        var started = System.Diagnostics.Stopwatch.StartNew();
        var printed = Ok(await fixture.Dsm("watch", counters.Name, "1", "--for", duration));

        Assert.Equal("7", printed);
        // Nothing changed the element, so only the duration ended the watch: not before it had passed.
        Assert.True(started.Elapsed >= TimeSpan.FromSeconds(1.5), $"the watch ended after {started.Elapsed}");
    }

    [Theory]
    [InlineData("30")]
    [InlineData("1x")]
    [InlineData("0s")]
    [InlineData("-5s")]
    [InlineData("00:00:00")]
    [InlineData("1e9h")]
    [InlineData("99999999999h")]
    public async Task Watch_refuses_a_duration_it_cannot_read_naming_the_value(string duration)
    {
        var counters = await AllocAsync<int>(4);

        var result = await fixture.Dsm("watch", counters.Name, "1", "--for", duration);

        Assert.Equal(2, result.ExitCode);
        Assert.Empty(result.Stdout);
        var line = Assert.Single(result.Stderr.Split('\n'));
        Assert.Contains($"--for '{duration}' is not a positive duration", line);
    }

    [Theory]
    [InlineData("raw")]
    [InlineData("csv")]
    public async Task Export_then_import_into_another_region_copies_every_element(string format)
    {
        var source = await AllocAsync<double>(300_000);
        var target = await AllocAsync<double>(300_000);
        double[] values = [0.1, -1E+300, 3.141592653589793];
        long[] indexes = [0, 131_071, 299_999];
        for (var i = 0; i < values.Length; i++) await source.SetAsync(indexes[i], values[i]);
        var file = Path.Combine(Path.GetTempPath(), $"{source.Name}.{format}");
        try
        {
            Assert.Contains("exported 300000 elements", Ok(await fixture.Dsm("export", source.Name, file, "--format", format)));
            Assert.Contains("imported 300000 elements", Ok(await fixture.Dsm("import", target.Name, file, "--format", format)));

            var copied = new double[300_000];
            await target.ReadAsync(0, copied);
            var expected = new double[300_000];
            for (var i = 0; i < values.Length; i++) expected[indexes[i]] = values[i];
            Assert.Equal(expected, copied);
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
    public async Task A_file_named_csv_is_exported_and_imported_as_csv_unless_the_format_says_otherwise()
    {
        var source = await AllocAsync<long>(3);
        await source.SetAsync(1, -7);
        var target = await AllocAsync<long>(3);
        var file = Path.Combine(Path.GetTempPath(), $"{source.Name}.CSV");
        try
        {
            Assert.Contains("csv)", Ok(await fixture.Dsm("export", source.Name, file)));
            Assert.Equal(["0", "-7", "0"], File.ReadAllLines(file));
            Assert.Contains("(csv)", Ok(await fixture.Dsm("import", target.Name, file)));
            var imported = await ContentsAsync(target);
            Assert.Equal(new long[] { 0, -7, 0 }, imported);

            Assert.Contains("raw)", Ok(await fixture.Dsm("export", source.Name, file, "--format", "raw")));
            Assert.Equal(3 * sizeof(long), new FileInfo(file).Length);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("xml")]
    [InlineData("1")]
    public async Task Export_refuses_a_format_it_does_not_know_and_writes_no_file(string format)
    {
        var source = await AllocAsync<long>(3);
        var file = Path.Combine(Path.GetTempPath(), $"{source.Name}.out");

        var result = await fixture.Dsm("export", source.Name, file, "--format", format);

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.Stderr.Split('\n'));
        Assert.Contains($"--format '{format}' is not known: it is raw or csv", line);
        Assert.False(File.Exists(file));
    }

    [Fact]
    public async Task An_import_resumes_where_its_progress_file_says_it_stopped()
    {
        var target = await AllocAsync<int>(6);
        var file = Path.Combine(Path.GetTempPath(), $"{target.Name}.csv");
        await File.WriteAllTextAsync(file, "10\n20\n30\n40\n");
        // A failed import that had written two elements: the region holds other values there, which a resume leaves.
        await target.SetAsync(0, -1);
        await File.WriteAllTextAsync(file + ".dsm-progress", "2 0");
        try
        {
            Ok(await fixture.Dsm("import", target.Name, file, "--format", "csv", "--resume"));

            Assert.Equal(new[] { -1, 0, 30, 40, 0, 0 }, await ContentsAsync(target));
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
        var client = await fixture.ClientAsync();
        var target = UniqueNames.For("cli-resume");
        await client.AllocateAsync<byte>(target, Length);
        var file = Path.Combine(Path.GetTempPath(), $"{target}.raw");
        var content = new byte[Length];
        new Random(5).NextBytes(content);
        await File.WriteAllBytesAsync(file, content);
        try
        {
            var start = BuiltPrograms.Dotnet(BuiltPrograms.CliDll, ["import", target, file, "--format", "raw", "--gateway", fixture.Silo.Gateway]);
            // A retry starts from a fresh region, so that what the resume leaves is its own doing.
            var progress = await KillOnFirstProgressAsync(start, file + ".dsm-progress", async () =>
            {
                await client.FreeAsync(target);
                await client.AllocateAsync<byte>(target, Length);
            });
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
            await client.FreeAsync(target); // 64 MiB the shared silo need not keep
        }
    }

    [Fact]
    public async Task An_export_resumes_after_the_bytes_its_progress_file_counts()
    {
        var sourceArray = await AllocAsync<long>(3);
        var source = sourceArray.Name;
        await sourceArray.WriteAsync(0, new long[] { 5, 6, 7 });
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
    [InlineData("csv", "1\n2,5\n", "Line 2: '2,5' is not a valid int32 value: the decimal point is '.', and there are no thousands separators")]
    public async Task A_bad_import_file_is_refused_before_anything_is_written(string format, string content, string named)
    {
        var target = await AllocAsync<int>(6);
        await target.SetAsync(0, 99);
        var file = Path.Combine(Path.GetTempPath(), $"{target.Name}.{format}");
        await File.WriteAllTextAsync(file, content);
        try
        {
            var result = await fixture.Dsm("import", target.Name, file, "--format", format);

            Assert.Equal(2, result.ExitCode);
            Assert.Contains(named, result.Stderr);
            Assert.Equal(new[] { 99, 0, 0, 0, 0, 0 }, await ContentsAsync(target));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Resume_without_a_progress_file_and_missing_files_are_refused()
    {
        var target = (await AllocAsync<int>(6)).Name;
        var missing = Path.Combine(Path.GetTempPath(), $"{target}.nothing");

        var import = await fixture.Dsm("import", target, missing);
        Assert.Equal(2, import.ExitCode);
        Assert.Contains("no file", import.Stderr);

        var resume = await fixture.Dsm("export", target, missing, "--resume");
        Assert.Equal(2, resume.ExitCode);
        Assert.Contains("no unfinished export", resume.Stderr);
        Assert.False(File.Exists(missing));
    }

    [Fact]
    public async Task A_progress_file_that_is_damaged_or_counts_past_the_region_or_file_is_refused_and_kept()
    {
        var array = await AllocAsync<long>(3);
        await array.WriteAsync(0, new long[] { 5, 6, 7 });
        var file = Path.Combine(Path.GetTempPath(), $"{array.Name}.csv");
        var progress = file + ".dsm-progress";
        await File.WriteAllTextAsync(file, "1\n2\n");
        try
        {
            foreach (var (verb, recorded, named) in new[]
                     {
                         ("export", "4 8", "records 4 elements, more than region"), ("import", "3 6", $"records 3 elements, more than '{file}' holds"),
                         ("export", "two 2", "is damaged"),
                     })
            {
                await File.WriteAllTextAsync(progress, recorded);
                var refused = await fixture.Dsm(verb, array.Name, file, "--format", "csv", "--resume");
                Assert.Equal(2, refused.ExitCode);
                Assert.Contains(named, refused.Stderr);
                Assert.Equal(recorded, await File.ReadAllTextAsync(progress));
            }
            Assert.Equal("1\n2\n", await File.ReadAllTextAsync(file));
            Assert.Equal(new long[] { 5, 6, 7 }, await ContentsAsync(array));
        }
        finally
        {
            File.Delete(file);
            File.Delete(progress);
        }
    }

    /// <summary>
    /// Runs <paramref name="start"/> (a transfer) and kills it (SIGKILL, no clean-up) as soon as it records progress in
    /// <paramref name="progressFile"/>, returning what that records. On a loaded machine a whole transfer may end before
    /// its progress is seen (the file goes at its end); then <paramref name="beforeRetry"/> runs and so does the
    /// transfer again, up to five times in all.
    /// </summary>
    private static async Task<string[]> KillOnFirstProgressAsync(System.Diagnostics.ProcessStartInfo start, string progressFile, Func<Task> beforeRetry)
    {
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            if (attempt > 1) await beforeRetry();
            using var transfer = System.Diagnostics.Process.Start(start)!;
            var (stdout, stderr) = (transfer.StandardOutput.ReadToEndAsync(), transfer.StandardError.ReadToEndAsync());
            // Watched from a thread of its own: a pool thread's Task.Delay can lag by the whole transfer when the pool is busy.
            var seen = await Task.Factory.StartNew(() =>
            {
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
                while (!File.Exists(progressFile) && !transfer.HasExited && DateTime.UtcNow < deadline) Thread.Sleep(1);
                return File.Exists(progressFile);
            }, TaskCreationOptions.LongRunning);
            transfer.Kill(entireProcessTree: true);
            await transfer.WaitForExitAsync();
            if (seen && File.Exists(progressFile)) return (await File.ReadAllTextAsync(progressFile)).Split(' ');
            Assert.True(transfer.ExitCode == 0, $"the transfer failed (exit {transfer.ExitCode}) before recording progress: {await stdout} {await stderr}");
        }
        throw new Xunit.Sdk.XunitException("five transfers in a row ended before their progress was seen");
    }

    private struct Pair { public int Left, Right; }

    [Fact]
    public async Task A_region_of_an_element_type_the_tool_does_not_know_is_named_and_left_alone()
    {
        var pairs = await AllocAsync<Pair>(4);
        await pairs.SetAsync(1, new Pair { Left = 3, Right = 4 });

        // dump prints its bytes, and export and import move them raw (tests above); values as numbers are refused.
        foreach (var verb in new[] { new[] { "get", pairs.Name, "1" }, ["set", pairs.Name, "1", "5"], ["watch", pairs.Name, "1"] })
        {
            var refused = await fixture.Dsm(verb);
            Assert.Equal(2, refused.ExitCode);
            Assert.Contains($"cannot handle elements of type '{ElementTypes.NameOf(typeof(Pair))}'", refused.Stderr);
            Assert.Empty(refused.Stdout);
        }
        Assert.Equal(new Pair { Left = 3, Right = 4 }, await pairs.GetAsync(1));
    }

    private async Task<SharedArray<T>> AllocAsync<T>(long length) where T : unmanaged =>
        await (await fixture.ClientAsync()).AllocateAsync<T>(UniqueNames.For("cli-data"), length);

    private static async Task<T[]> ContentsAsync<T>(SharedArray<T> array) where T : unmanaged
    {
        var contents = new T[array.Length];
        await array.ReadAsync(0, contents);
        return contents;
    }

    private static string Ok(ProcessResult result)
    {
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Stderr}");
        return result.Stdout;
    }
}
