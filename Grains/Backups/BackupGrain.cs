using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Placement;
using Orleans.Serialization;
using Orleans.Storage;
using OrleansDsm.Backups;
using OrleansDsm.Errors;
using OrleansDsm.Grains.Hosting;
using OrleansDsm.Grains.Pages;
using OrleansDsm.Regions;

namespace OrleansDsm.Grains.Backups;

/// <summary>
/// Reads a backup from a storage snapshot. Each stored page is decoded and checked (<see cref="PageState.Verify"/>),
/// and kept only if it belongs to a live region's current allocation: rows left over from a free are not data.
/// </summary>
// Stays where it started when pages are rebalanced: a backup runs as one long call.
[Immovable]
internal sealed class BackupGrain(IServiceProvider services, Serializer serializer, IOptions<AddressSpaceOptions> options) : Grain, IBackupGrain
{
    private readonly Persistence.ExactSizeStorageSerializer _decoder = new(serializer);
    private IPageSnapshot? _snapshot;
    private RegionDescriptor[] _regions = [];
    private readonly Queue<BackupPage> _ready = new();
    private bool _exhausted;

    public async Task<IReadOnlyList<RegionDescriptor>> Begin(Guid run)
    {
        RequireOwn(run);
        var snapshots = services.GetService<IPageSnapshots>()
            ?? throw new DsmException("A backup reads pages straight from storage in one snapshot, which needs Silo:Storage=PostgreSQL with Silo:PageStore=Batched; this cluster's pages are not stored that way.");
        if (_snapshot is not null) throw new InvalidOperationException("This backup has begun already.");
        _snapshot = await snapshots.OpenAsync(CancellationToken.None);
        var directory = await GrainFactory.GetGrain<IRegionDirectoryGrain>(0).GetState();
        _regions = [.. directory.Regions.OrderBy(region => region.FirstPage)];
        return directory.Regions;
    }

    public async Task<BackupPage[]> Next(int maxPages)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPages);
        if (_snapshot is null) throw new InvalidOperationException("Call Begin before Next.");
        while (_ready.Count < maxPages && !_exhausted)
        {
            var rows = await _snapshot.NextAsync(Math.Max(maxPages, 16), CancellationToken.None);
            if (rows.Count == 0) _exhausted = true;
            foreach (var (page, payload) in rows)
                if (Decode(page, payload) is { } kept) _ready.Enqueue(kept);
        }
        var batch = new BackupPage[Math.Min(maxPages, _ready.Count)];
        for (var i = 0; i < batch.Length; i++) batch[i] = _ready.Dequeue();
        return batch;
    }

    public async Task End(Guid run)
    {
        RequireOwn(run);
        if (_snapshot is not null) await _snapshot.DisposeAsync();
        _snapshot = null;
        DeactivateOnIdle();
    }

    private void RequireOwn(Guid run)
    {
        if (run != this.GetPrimaryKey()) throw new ArgumentException($"Backup run {run} was asked of the grain of run {this.GetPrimaryKey()}.", nameof(run));
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_snapshot is not null) await _snapshot.DisposeAsync();
    }

    private BackupPage? Decode(long page, byte[] payload)
    {
        PageState state;
        try
        {
            state = _decoder.Deserialize<PageState>(new BinaryData(payload)) ?? throw new InvalidDataException("the record is empty");
        }
        catch (Exception error)
        {
            throw new CorruptPageException($"The stored record of page {page} cannot be read: it is truncated or damaged ({error.GetBaseException().Message}).");
        }
        state.Verify(page, options.Value.PageSize);
        if (state.Bytes.Length == 0) return null;
        var region = RegionOf(page);
        return region is not null && region.Epoch == state.Epoch ? new BackupPage(region.Name, page - region.FirstPage, state.Bytes) : null;
    }

    private RegionDescriptor? RegionOf(long page)
    {
        int low = 0, high = _regions.Length - 1;
        while (low <= high)
        {
            var middle = (low + high) / 2;
            var region = _regions[middle];
            if (page < region.FirstPage) high = middle - 1;
            else if (page >= region.FirstPage + region.PageCount) low = middle + 1;
            else return region;
        }
        return null;
    }
}
