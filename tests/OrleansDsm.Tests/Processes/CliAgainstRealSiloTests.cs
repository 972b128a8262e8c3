using OrleansDsm.Testing;

namespace OrleansDsm.Tests.Processes;

/// <summary>The real silo program driven by the real <c>dsm</c> tool, each its own process.</summary>
public sealed class CliAgainstRealSiloTests(SiloProcessFixture fixture) : IClassFixture<SiloProcessFixture>
{
    [Fact]
    public async Task Alloc_set_get_add_ls_and_free_with_the_owner_token_work_from_the_command_line()
    {
        var name = UniqueNames.For("cli");
        var alloc = await fixture.Dsm("alloc", name, "--type", "int64", "--length", "1000");
        Assert.True(alloc.ExitCode == 0, alloc.Stderr);
        Assert.Contains(name, alloc.Stdout);

        Assert.Equal(0, (await fixture.Dsm("set", name, "999", "-42")).ExitCode);
        Assert.Equal("-42", (await fixture.Dsm("get", name, "999")).Stdout);
        Assert.Equal("-30", (await fixture.Dsm("add", name, "999", "12")).Stdout);
        Assert.Equal("-30", (await fixture.Dsm("get", name, "999")).Stdout);

        var listing = await fixture.Dsm("ls");
        Assert.Contains(listing.Stdout.Split('\n'), line => line.StartsWith(name + " ") && line.Contains("int64") && line.Contains("1000"));

        var refused = await fixture.Dsm("free", name);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("owner token", refused.Stderr);
        Assert.Equal(1, (await fixture.DsmWithToken("dsm-owner-guessed", "free", name)).ExitCode);
        Assert.Contains(name + " ", (await fixture.Dsm("ls")).Stdout);
        var token = alloc.Stdout.Split('\n').Single(line => line.StartsWith("owner token: ", StringComparison.Ordinal))["owner token: ".Length..];
        Assert.Equal(0, (await fixture.DsmWithToken(token, "free", name)).ExitCode);
        Assert.DoesNotContain(name + " ", (await fixture.Dsm("ls")).Stdout);
    }

    [Fact]
    public async Task Ls_keeps_its_columns_for_a_name_longer_than_their_usual_width()
    {
        var name = UniqueNames.For("cli-a-region-name-well-past-the-twenty-four-characters-of-the-column");
        await (await fixture.ClientAsync()).AllocateAsync<byte>(name, 3);

        var lines = (await fixture.Dsm("ls")).Stdout.Split('\n');
        var type = lines[0].IndexOf("TYPE", StringComparison.Ordinal);
        Assert.Contains(lines, line => line.StartsWith(name + " ", StringComparison.Ordinal));
        // Every row's type starts under TYPE, after the name and its padding.
        Assert.All(lines.Skip(1), line => Assert.True(line[type - 1] == ' ' && line[type] != ' ', $"'{line}' leaves the TYPE column at {type}"));
    }

    [Fact]
    public async Task Floating_point_and_byte_regions_print_their_values_exactly()
    {
        var doubles = UniqueNames.For("cli-f64");
        Assert.Equal(0, (await fixture.Dsm("alloc", doubles, "--type", "float64", "--length", "4")).ExitCode);
        Assert.Equal(0, (await fixture.Dsm("set", doubles, "3", "0.1")).ExitCode);
        Assert.Equal("0.30000000000000004", (await fixture.Dsm("add", doubles, "3", "0.2")).Stdout);
        // Too large for float64 is refused, as an integer too large for its type is; infinity must be asked for.
        var huge = await fixture.Dsm("set", doubles, "2", "1e400");
        Assert.Equal((2, "dsm: '1e400' is not a valid float64 value."), (huge.ExitCode, huge.Stderr));
        Assert.Equal(0, (await fixture.Dsm("set", doubles, "2", "-Infinity")).ExitCode);
        Assert.Equal("-Infinity", (await fixture.Dsm("get", doubles, "2")).Stdout);

        var bytes = UniqueNames.For("cli-u8");
        Assert.Equal(0, (await fixture.Dsm("alloc", bytes, "--type", "uint8", "--length", "4")).ExitCode);
        Assert.Equal(0, (await fixture.Dsm("set", bytes, "0", "255")).ExitCode);
        Assert.Equal("255", (await fixture.Dsm("get", bytes, "0")).Stdout);
        // The cluster adds atomically to 32- and 64-bit elements only; the refusal names the region's type, not .NET's.
        var add = await fixture.Dsm("add", bytes, "0", "1");
        Assert.Equal(2, add.ExitCode);
        Assert.Equal($"dsm: add works on int32, int64, uint32, uint64, float32, float64 regions; '{bytes}' holds uint8.", add.Stderr);
        Assert.Equal("255", (await fixture.Dsm("get", bytes, "0")).Stdout);
    }

    [Theory]
    [InlineData(2, "Index 5 is outside", "get", "{0}", "5")]
    [InlineData(2, "'1.5' is not a valid int32", "set", "{0}", "1", "1.5")]
    [InlineData(2, "'99999999999' is not a valid int32", "set", "{0}", "1", "99999999999")]
    [InlineData(2, "'1,5' is not a valid int32 value: the decimal point is '.', and there are no thousands separators", "set", "{0}", "1", "1,5")]
    [InlineData(2, "'1,000' is not a valid int32 value", "add", "{0}", "1", "1,000")]
    [InlineData(2, "Index -1 is outside", "set", "{0}", "-1", "7")]
    [InlineData(2, "'int128' not recognized", "alloc", "{0}-x", "--type", "int128", "--length", "3")]
    [InlineData(2, "Region name 'bad/name' is not valid", "alloc", "bad/name", "--type", "int32", "--length", "3")]
    [InlineData(2, "length ('0')", "alloc", "{0}-y", "--type", "int32", "--length", "0")]
    [InlineData(1, "already exists", "alloc", "{0}", "--type", "int32", "--length", "3")]
    [InlineData(1, "There is no region named", "get", "{0}-missing", "0")]
    [InlineData(1, "There is no region named", "free", "{0}-missing")]
    [InlineData(2, "'frobnicate'", "frobnicate")]
    [InlineData(2, "index 'abc' is not a whole number", "get", "{0}", "abc")]
    [InlineData(2, "index '1e3' is not a whole number", "set", "{0}", "1e3", "7")]
    [InlineData(2, "--length '99999999999999999999' is out of range", "alloc", "{0}-z", "--type", "int64", "--length", "99999999999999999999")]
    [InlineData(2, "--count 'y' is not a whole number", "dump", "{0}", "--count", "y")]
    [InlineData(2, "--changes 'lots' is not a whole number", "watch", "{0}", "1", "--changes", "lots")]
    [InlineData(2, "--ops 'many' is not a whole number", "bench", "--ops", "many")]
    [InlineData(2, "--consistency 'weak' is not known: it is strict, uncached, release or bounded:DURATION", "alloc", "{0}-c", "--type", "int32", "--length", "3", "--consistency", "weak")]
    [InlineData(2, "--consistency 'bounded:25h' is not known", "alloc", "{0}-d", "--type", "int32", "--length", "3", "--consistency", "bounded:25h")]
    [InlineData(2, "The folder /nonexistent-dsm of '/nonexistent-dsm/x.csv' does not exist", "export", "{0}", "/nonexistent-dsm/x.csv")]
    [InlineData(2, "'.' is a folder; export writes a file", "export", "{0}", ".")]
    [InlineData(2, "'.' is a folder, not a file to import", "import", "{0}", ".")]
    [InlineData(2, "is a folder; it names the backup file to write", "backup", "--out", ".")]
    [InlineData(2, "is a folder, not a backup file", "restore", ".")]
    public async Task Bad_input_exits_non_zero_with_one_line_naming_what_was_wrong_and_changes_nothing(int exitCode, string named, params string[] template)
    {
        // Set up and checked in this process: only the call under test pays for starting the tool.
        var client = await fixture.ClientAsync();
        var name = UniqueNames.For("cli-bad");
        var region = await client.AllocateAsync<int>(name, 5);
        await region.SetAsync(1, 11);
        var listingBefore = await client.ListAsync();

        var result = await fixture.Dsm(template.Select(part => string.Format(part, name)).ToArray());

        Assert.Equal(exitCode, result.ExitCode);
        var line = Assert.Single(result.Stderr.Split('\n'));
        Assert.StartsWith("dsm: ", line);
        Assert.Contains(named, line);
        Assert.Equal(listingBefore, await client.ListAsync());
        Assert.Equal(11, await region.GetAsync(1));
    }

    [Fact]
    public async Task Every_region_verb_prints_one_json_document_with_json()
    {
        var name = UniqueNames.For("cli-json");

        var allocated = Json(await fixture.Dsm("alloc", name, "--type", "int64", "--length", "10", "--json"));
        Assert.Equal((name, "int64", 10L),
            (allocated.GetProperty("region").GetString(), allocated.GetProperty("type").GetString(), allocated.GetProperty("length").GetInt64()));
        var ownerToken = allocated.GetProperty("ownerToken").GetString()!;
        Assert.StartsWith("dsm-owner-", ownerToken);

        var set = Json(await fixture.Dsm("set", name, "3", "-9223372036854775808", "--json"));
        Assert.Equal((name, 3L, "-9223372036854775808"),
            (set.GetProperty("region").GetString(), set.GetProperty("index").GetInt64(), set.GetProperty("value").GetString()));
        var got = Json(await fixture.Dsm("get", name, "3", "--json"));
        Assert.Equal("-9223372036854775808", got.GetProperty("value").GetString());
        var added = Json(await fixture.Dsm("add", name, "2", "5", "--json"));
        Assert.Equal((2L, "5"), (added.GetProperty("index").GetInt64(), added.GetProperty("value").GetString()));

        var listed = Json(await fixture.Dsm("ls", "--json"));
        var region = Assert.Single(listed.GetProperty("regions").EnumerateArray(), entry => entry.GetProperty("name").GetString() == name);
        Assert.Equal((80L, allocated.GetProperty("address").GetString(), "Strict"),
            (region.GetProperty("bytes").GetInt64(), region.GetProperty("address").GetString(), region.GetProperty("consistency").GetString()));

        var freed = Json(await fixture.DsmWithToken(ownerToken, "free", name, "--json"));
        Assert.Equal(name, freed.GetProperty("freed").GetString());
        Assert.DoesNotContain(await (await fixture.ClientAsync()).ListAsync(), entry => entry.Name == name);
    }

    /// <summary>The one JSON document a successful run printed.</summary>
    private static System.Text.Json.JsonElement Json(ProcessResult result)
    {
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Stderr}");
        using var document = System.Text.Json.JsonDocument.Parse(result.Stdout);
        return document.RootElement.Clone();
    }

    [Fact]
    public async Task An_unreachable_gateway_is_reported_with_its_own_exit_code()
    {
        var port = LoopbackPorts.Free();
        var result = await BuiltPrograms.RunAsync(BuiltPrograms.Dotnet(BuiltPrograms.CliDll, ["ls", "--gateway", $"127.0.0.1:{port}"]), TimeSpan.FromSeconds(60));
        Assert.Equal(3, result.ExitCode);
        Assert.Contains($"Cannot reach the cluster at 127.0.0.1:{port}: no gateway answered within 10 s (nothing listens at 127.0.0.1:{port})", result.Stderr);
    }

    [Fact]
    public async Task Without_a_gateway_option_the_tool_takes_DSM_GATEWAY_and_says_so_when_it_cannot_reach_it()
    {
        var name = UniqueNames.For("cli-env-gateway");
        var region = await (await fixture.ClientAsync()).AllocateAsync<int>(name, 5);
        await region.SetAsync(2, 22);
        var fromEnvironment = BuiltPrograms.Dotnet(BuiltPrograms.CliDll, ["get", name, "2"]);
        fromEnvironment.Environment["DSM_GATEWAY"] = fixture.Silo.Gateway;

        var result = await BuiltPrograms.RunAsync(fromEnvironment, TimeSpan.FromSeconds(60));

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("22", result.Stdout);

        var port = LoopbackPorts.Free();
        var unreachable = BuiltPrograms.Dotnet(BuiltPrograms.CliDll, ["ls"]);
        unreachable.Environment["DSM_GATEWAY"] = $"127.0.0.1:{port}";
        var refused = await BuiltPrograms.RunAsync(unreachable, TimeSpan.FromSeconds(60));
        Assert.Equal(3, refused.ExitCode);
        Assert.EndsWith($"(nothing listens at 127.0.0.1:{port}); the gateways come from DSM_GATEWAY.", Assert.Single(refused.Stderr.Split('\n')));

        // The option wins over the variable, and then the variable is not blamed.
        var both = BuiltPrograms.Dotnet(BuiltPrograms.CliDll, ["get", name, "2", "--gateway", fixture.Silo.Gateway]);
        both.Environment["DSM_GATEWAY"] = $"127.0.0.1:{port}";
        Assert.Equal("22", (await BuiltPrograms.RunAsync(both, TimeSpan.FromSeconds(60))).Stdout);
    }

    [Fact]
    public async Task A_gateway_whose_host_name_does_not_resolve_is_reported_as_unreachable_naming_it()
    {
        // .invalid never resolves (RFC 2606).
        var result = await BuiltPrograms.RunAsync(
            BuiltPrograms.Dotnet(BuiltPrograms.CliDll, ["ls", "--gateway", "no-such-host.invalid:30000"]), TimeSpan.FromSeconds(60));

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("the host name 'no-such-host.invalid' does not resolve", Assert.Single(result.Stderr.Split('\n')));
    }

    [Fact]
    public async Task Several_gateways_separated_by_commas_are_tried_until_one_answers()
    {
        var name = UniqueNames.For("cli-gateways");
        var region = await (await fixture.ClientAsync()).AllocateAsync<int>(name, 5);
        await region.SetAsync(1, 11);

        var result = await BuiltPrograms.RunAsync(BuiltPrograms.Dotnet(BuiltPrograms.CliDll,
            ["get", name, "1", "--gateway", $"127.0.0.1:{LoopbackPorts.Free()}, {fixture.Silo.Gateway}"]), TimeSpan.FromSeconds(60));

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("11", result.Stdout);
    }

    [Fact]
    public async Task The_dashboard_answers_on_the_silos_http_port()
    {
        using var http = new HttpClient();
        var response = await http.GetAsync($"http://localhost:{fixture.Silo.HttpPort}/dashboard/");
        Assert.True(response.IsSuccessStatusCode, $"dashboard answered {(int)response.StatusCode}");
        Assert.Contains("<html", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void The_silo_says_what_its_clustering_and_storage_are()
    {
        Assert.Contains("clustering=localhost", fixture.Silo.Output);
        Assert.Contains("storage=memory (one silo only, all data lost when it stops; write-behind: pages stored within 1 s of a write)", fixture.Silo.Output);
        Assert.Contains("page size=4096", fixture.Silo.Output);
        Assert.Matches("direct channel=port [0-9]+;", fixture.Silo.Output);
    }
}
