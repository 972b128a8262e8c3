using Orleans.Runtime;

namespace OrleansDsm.Pages;

/// <summary>
/// Makes page grain references from page numbers. <c>GetGrain</c> resolves the interface from its attributes by
/// reflection on every call, which every fan-out over pages (a batch, a free, an inspection) and every miss of a
/// client's reference cache paid once per page; this resolves it once and builds each id directly.
/// </summary>
internal sealed class PageGrainReferences(IGrainFactory grains)
{
    private readonly GrainReference _first = (GrainReference)grains.GetGrain<IPageGrain>(0);

    public IPageGrain this[long page] => (IPageGrain)grains.GetGrain(
        GrainId.Create(_first.GrainId.Type, GrainIdKeyExtensions.CreateIntegerKey(page)), _first.InterfaceType);
}
