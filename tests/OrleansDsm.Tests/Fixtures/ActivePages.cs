using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using OrleansDsm.Grains.Pages;

namespace OrleansDsm.Tests.Fixtures;

/// <summary>
/// Where the pages of an in-process test cluster are active, as each silo's own list says (<see cref="LocalPages"/>):
/// the silo whose batches reach a page without a call, and the activation object itself, to tell one activation from
/// the next.
/// </summary>
internal static class ActivePages
{
    /// <summary>The silo's list of the pages active on it.</summary>
    public static LocalPages Of(InProcessSiloHandle silo) => silo.ServiceProvider.GetRequiredService<LocalPages>();

    /// <summary>The activation of <paramref name="page"/>, on whichever silo it is active; null when none is.</summary>
    public static PageGrain? Find(InProcessTestCluster cluster, long page) =>
        cluster.Silos.Select(silo => Of(silo).Find(page)).FirstOrDefault(found => found is not null);

    /// <summary>The services of the one silo where <paramref name="page"/> is active.</summary>
    public static IServiceProvider Holding(InProcessTestCluster cluster, long page) =>
        Assert.Single(cluster.Silos, silo => Of(silo).Find(page) is not null).ServiceProvider;

    /// <summary>Waits, 10 s at the most, until no silo lists any of <paramref name="pages"/>.</summary>
    public static async Task WaitUntilGone(InProcessTestCluster cluster, params long[] pages)
    {
        for (var waited = 0; cluster.Silos.Any(silo => pages.Any(page => Of(silo).Find(page) is not null)); waited += 50)
        {
            Assert.True(waited < 10_000, $"Pages {string.Join(", ", pages)} were still active after 10 s.");
            await Task.Delay(50);
        }
    }
}
