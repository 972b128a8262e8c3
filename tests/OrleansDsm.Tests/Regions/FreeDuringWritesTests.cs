namespace OrleansDsm.Tests.Regions;

/// <summary>A free that races with writes leaves no stored page behind and no write half-applied to a live region.</summary>
[Collection(ClusterCollection.Name)]
public sealed class FreeDuringWritesTests(ClusterFixture fixture)
{
    [Fact]
    public async Task Writes_racing_a_free_either_land_before_it_or_fail_and_no_row_survives()
    {
        var rowsBefore = fixture.PageRows;
        var name = UniqueNames.For("race");
        var array = await fixture.Client.AllocateAsync<int>(name, 64 * 1024); // 64 pages
        using var stop = new CancellationTokenSource();

        var writers = Enumerable.Range(0, 8).Select(async writer =>
        {
            var (succeeded, refused) = (0, 0);
            for (var i = 0; !stop.IsCancellationRequested || i < 20; i++)
            {
                try
                {
                    await array.SetAsync((writer * 8191L + i * 1031L) % array.Length, i + 1);
                    succeeded++;
                }
                catch (RegionFreedException)
                {
                    refused++;
                    if (stop.IsCancellationRequested) break;
                }
            }
            return (succeeded, refused);
        }).ToList();

        await Task.Delay(200);
        await fixture.Client.FreeAsync(name);
        stop.Cancel();
        var outcomes = await Task.WhenAll(writers);

        Assert.True(outcomes.Sum(o => o.succeeded) > 0, "some writes should land before the free");
        Assert.True(outcomes.Sum(o => o.refused) > 0, "writes after the free should be refused");
        Assert.Equal(rowsBefore, fixture.PageRows);
        var successor = await fixture.Client.AllocateAsync<int>(name, 64 * 1024);
        var contents = new int[successor.Length];
        await successor.ReadAsync(0, contents);
        Assert.All(contents, value => Assert.Equal(0, value));
    }
}
