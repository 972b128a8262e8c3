using Orleans.Runtime;

namespace OrleansDsm;

/// <summary>
/// Makes references to grains of one integer-keyed interface from their keys. <c>GetGrain</c> resolves the interface
/// from its attributes by reflection on every call, which every fan-out over pages (a batch, a free, an inspection),
/// every miss of a client's reference cache and every page's first write (registering with its region) paid once per
/// page; this resolves it once and builds each id directly.
/// </summary>
internal sealed class GrainReferences<TGrain>(IGrainFactory grains) where TGrain : IGrainWithIntegerKey
{
    private readonly GrainReference _first = (GrainReference)(object)grains.GetGrain<TGrain>(0);

    public TGrain this[long key] => (TGrain)grains.GetGrain(
        GrainId.Create(_first.GrainId.Type, GrainIdKeyExtensions.CreateIntegerKey(key)), _first.InterfaceType);
}
