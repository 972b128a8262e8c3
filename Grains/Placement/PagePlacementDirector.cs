using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Runtime.Placement;
using OrleansDsm.Grains.Hosting;

namespace OrleansDsm.Grains.Placement;

/// <summary>
/// Places a page that is not active anywhere. <c>Balanced</c> hands the choice to the silo's default placement
/// (Orleans' resource-optimized placement, which prefers the calling silo only while no other scores better).
/// <c>FirstTouch</c> places it on the silo its call comes from, as a NUMA kernel places a page on the node that first
/// touches it, when that silo is active and hosts pages; a worker that touches its own pages first then finds them
/// local. Either way a placement hint (a migration's target) wins.
/// </summary>
internal sealed class PagePlacementDirector(IServiceProvider services, IOptions<AddressSpaceOptions> options) : IPlacementDirector
{
    private readonly bool _firstTouch = options.Value.FirstTouchPlacement;

    // Resolved on first use, since the default strategy's director is registered beside this one; through Lazy, since
    // placements run on several threads at once and a nullable pair read while another thread writes it can be torn
    // (seen: a director read as null beside a flag saying it was there).
    private readonly Lazy<(PlacementStrategy Strategy, IPlacementDirector Director)> _balanced = new(() =>
    {
        var strategy = services.GetRequiredService<PlacementStrategy>();
        return (strategy, services.GetRequiredService<PlacementDirectorResolver>().GetPlacementDirector(strategy));
    });

    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        if (_firstTouch)
        {
            var compatible = context.GetCompatibleSilos(target);
            if (IPlacementDirector.GetPlacementHint(target.RequestContextData, compatible) is { } hinted) return Task.FromResult(hinted);
            if (context.LocalSiloStatus == SiloStatus.Active && compatible.Contains(context.LocalSilo)) return Task.FromResult(context.LocalSilo);
        }
        var (balancedStrategy, balanced) = _balanced.Value;
        return balanced.OnAddActivation(balancedStrategy, target, context);
    }
}
