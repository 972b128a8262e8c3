using System.Security.Cryptography;
using Xunit.Abstractions;
using OrleansDsm.Connection;
using OrleansDsm.Tests.Processes;
using static OrleansDsm.Tests.Fixtures.PostgresServer;

namespace OrleansDsm.Tests.Durability;

/// <summary>
/// <c>dsm backup</c> and <c>dsm restore</c> between two clusters on two fresh PostgreSQL databases: every region comes
/// back with every byte, and every way a restore can be refused changes nothing.
/// </summary>
public sealed class BackupRestoreTests(ITestOutputHelper output) : IAsyncLifetime
{
    private PostgresServer _postgres = null!;
    private readonly string _folder = Directory.CreateTempSubdirectory("dsm-backup-").FullName;

    public async Task InitializeAsync() => _postgres = await PostgresServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _postgres.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task Backup_then_restore_into_a_fresh_database_reproduces_every_byte()
    {
        await using var source = await StartSiloAsync(await _postgres.CreateDatabaseAsync("source"));
        await using var target = await StartSiloAsync(await _postgres.CreateDatabaseAsync("target"));
        await using (var client = await source.ConnectAsync())
        {
            var random = new Random(17);
            var ints = await client.AllocateAsync<int>("ints", 3 * 1024 + 5);
            await ints.WriteAsync(0, Enumerable.Range(0, 3 * 1024 + 5).Select(_ => random.Next()).ToArray());
            var bytes = await client.AllocateAsync<byte>("bytes", 10_000, Consistency.Uncached);
            await bytes.WriteAsync(5000, Enumerable.Range(0, 3000).Select(i => (byte)i).ToArray());
            var sparse = await client.AllocateAsync<long>("sparse", 1L << 20, Consistency.Bounded(TimeSpan.FromSeconds(2)));
            await sparse.SetAsync(0, -1);
            await sparse.SetAsync((1L << 20) - 1, long.MaxValue);
            await client.AllocateAsync<double>("never-written", 100);
            var freed = await client.AllocateAsync<long>("freed", 4096);
            await freed.SetAsync(7, 7);
            await client.FreeAsync("freed");
        }
        var file = Path.Combine(_folder, "cluster.dsmbak");

        var backup = await BuiltPrograms.RunDsmAsync("backup", "--out", file, "--gateway", source.Gateway);
        var restore = await BuiltPrograms.RunDsmAsync("restore", file, "--gateway", target.Gateway, "--json");

        output.WriteLine(backup.Stdout + restore.Stdout);
        Assert.True(backup.ExitCode == 0, backup.Stderr);
        Assert.StartsWith("backup: 4 regions, 7 stored pages", backup.Stdout);
        Assert.True(restore.ExitCode == 0, restore.Stderr);
        using (var restored = System.Text.Json.JsonDocument.Parse(restore.Stdout))
            Assert.Equal((4, 7), (restored.RootElement.GetProperty("regions").GetInt32(), restored.RootElement.GetProperty("pages").GetInt32()));
        var original = await DescribeAsync(source);
        Assert.Equal(4, original.Count);
        Assert.Equal(original, await DescribeAsync(target));
    }

    [Fact]
    public async Task A_refused_restore_changes_nothing()
    {
        await using var silo = await StartSiloAsync(await _postgres.CreateDatabaseAsync("refusals"));
        await using (var client = await silo.ConnectAsync())
        {
            var cells = await client.AllocateAsync<long>("cells", 1000);
            await cells.SetAsync(3, 33);
        }
        var file = Path.Combine(_folder, "good.dsmbak");
        var backup = await BuiltPrograms.RunDsmAsync("backup", "--out", file, "--gateway", silo.Gateway, "--json");
        Assert.Equal(0, backup.ExitCode);
        using (var written = System.Text.Json.JsonDocument.Parse(backup.Stdout))
            Assert.Equal((1, 1, file), (written.RootElement.GetProperty("regions").GetInt32(), written.RootElement.GetProperty("pages").GetInt32(),
                written.RootElement.GetProperty("file").GetString()));
        var good = await File.ReadAllBytesAsync(file);
        var flipped = Path.Combine(_folder, "flipped.dsmbak");
        var changed = (byte[])good.Clone();
        changed[good.Length / 2] ^= 0x40;
        await File.WriteAllBytesAsync(flipped, changed);
        var truncated = Path.Combine(_folder, "truncated.dsmbak");
        await File.WriteAllBytesAsync(truncated, good[..(good.Length - 100)]);
        var before = await DescribeAsync(silo);

        var intoNonEmpty = await BuiltPrograms.RunDsmAsync("restore", file, "--gateway", silo.Gateway);
        var damaged = await BuiltPrograms.RunDsmAsync("restore", flipped, "--gateway", silo.Gateway);
        var cut = await BuiltPrograms.RunDsmAsync("restore", truncated, "--gateway", silo.Gateway);
        var missing = await BuiltPrograms.RunDsmAsync("restore", Path.Combine(_folder, "nowhere.dsmbak"), "--gateway", silo.Gateway);

        Assert.Equal((1, true), (intoNonEmpty.ExitCode, intoNonEmpty.Stderr.Contains("without regions; this one holds 1: cells", StringComparison.Ordinal)));
        Assert.Equal((2, true), (damaged.ExitCode, damaged.Stderr.Contains("SHA-256 does not match", StringComparison.Ordinal)));
        Assert.Equal((2, true), (cut.ExitCode, cut.Stderr.Contains("not a usable backup", StringComparison.Ordinal)));
        Assert.Equal((2, true), (missing.ExitCode, missing.Stderr.Contains("There is no backup file", StringComparison.Ordinal)));
        Assert.Equal(before, await DescribeAsync(silo));
    }

    [Fact]
    public async Task A_backup_without_a_storage_snapshot_or_into_a_missing_folder_is_refused_and_leaves_no_file()
    {
        await using var silo = await SiloProcess.StartAsync("--Silo:Dashboard=false");
        var file = Path.Combine(_folder, "memory.dsmbak");

        var backup = await BuiltPrograms.RunDsmAsync("backup", "--out", file, "--gateway", silo.Gateway);

        Assert.Equal(1, backup.ExitCode);
        Assert.Contains("needs Silo:Storage=PostgreSQL", backup.Stderr, StringComparison.Ordinal);
        var nowhere = Path.Combine(_folder, "missing", "memory.dsmbak");
        var intoNoFolder = await BuiltPrograms.RunDsmAsync("backup", "--out", nowhere, "--gateway", silo.Gateway);
        Assert.Equal(2, intoNoFolder.ExitCode);
        Assert.Contains($"The folder {Path.GetDirectoryName(nowhere)} of --out does not exist", intoNoFolder.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(_folder));
    }

    [Fact]
    public async Task A_backup_that_meets_a_damaged_stored_page_stops_names_the_page_and_leaves_no_file()
    {
        var database = await _postgres.CreateDatabaseAsync("damaged");
        await using var silo = await StartSiloAsync(database);
        long firstPage;
        await using (var client = await silo.ConnectAsync())
        {
            var cells = await client.AllocateAsync<long>("cells", 2 * 512);
            await cells.WriteAsync(0, Enumerable.Range(1, 2 * 512).Select(i => (long)i).ToArray());
            firstPage = cells.Region.FirstPage;
        }
        Assert.Equal(2, await StoredPagesAsync(database));
        // One of the two rows gets a byte of its record flipped.
        await ExecuteAsync(database, """
            UPDATE dsm_pages SET payload = set_byte(payload, octet_length(payload) / 2, get_byte(payload, octet_length(payload) / 2) # 255)
            WHERE grain_id = (SELECT min(grain_id) FROM dsm_pages)
            """);

        var backup = await BuiltPrograms.RunDsmAsync("backup", "--out", Path.Combine(_folder, "damaged.dsmbak"), "--gateway", silo.Gateway);

        Assert.Equal(1, backup.ExitCode);
        Assert.Matches($"The stored record of page ({firstPage}|{firstPage + 1}) does not match its checksum", backup.Stderr);
        Assert.Empty(Directory.GetFiles(_folder));
    }

    /// <summary>Every region's metadata and the SHA-256 of its whole contents, read uncached through the silos.</summary>
    private static async Task<List<string>> DescribeAsync(SiloProcess silo)
    {
        await using var client = await silo.ConnectAsync();
        var described = new List<string>();
        foreach (var region in await client.ListAsync())
        {
            var contents = new byte[region.ByteLength];
            await client.ReadAsync(region.BaseAddress, contents);
            described.Add($"{region.Name} {region.ElementType} {region.ElementCount} {region.Consistency} {Convert.ToHexString(SHA256.HashData(contents))}");
        }
        return described;
    }

    private static Task<SiloProcess> StartSiloAsync(string database) =>
        SiloProcess.StartAsync("--Silo:Storage=PostgreSQL", $"--Silo:ConnectionString={database}", "--Silo:Dashboard=false");

}
