using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using OrleansDsm.Grains.Hosting;
using OrleansDsm.Regions;

namespace OrleansDsm.Grains.Regions;

/// <summary>
/// A silo's memory of which allocations are live, shared by all page grains on the silo, so that a page checks its
/// caller's epoch without a grain call. An answer is trusted for <see cref="AddressSpaceOptions.RegionLease"/>
/// from when the question was sent, on the monotonic clock; freeing waits out <see cref="FreeWait"/> after marking
/// the allocation freed, which is longer. A freed allocation is remembered as freed for good, since epochs are
/// never reused. An answer in use is asked again once three quarters of its lease have passed, and replaced when
/// the new one comes: a region in steady use is never found without an answer, which would send every page request
/// that finds it so (on the direct channel: every get) the slow way, once a lease.
/// </summary>
internal sealed class RegionLivenessCache(IGrainFactory grains, IOptions<AddressSpaceOptions> options)
{
    private readonly long _leaseMs = (long)options.Value.RegionLease.TotalMilliseconds;
    private readonly long _refreshAfterMs = (long)options.Value.RegionLease.TotalMilliseconds * 3 / 4;
    private readonly ConcurrentDictionary<long, Answer> _answers = new();
    // Made at first use, once the silo's grain types are known; two threads making it at once make equal ones.
    private GrainReferences<IRegionGrain>? _allocations;

    /// <summary>The grain of allocation <paramref name="epoch"/>, without GetGrain's reflection (every page's first write asks for it).</summary>
    public IRegionGrain Allocation(long epoch) => (_allocations ??= new GrainReferences<IRegionGrain>(grains))[epoch];

    /// <summary>How long a free waits after marking its allocation freed: one lease and a margin for clock drift and tick granularity.</summary>
    public static TimeSpan FreeWait(TimeSpan lease) => lease + TimeSpan.FromMilliseconds(Math.Max(20, lease.TotalMilliseconds / 10));

    /// <summary>Completes when allocation <paramref name="epoch"/> is live and contains <paramref name="page"/>.</summary>
    /// <exception cref="RegionFreedException">The allocation has been freed.</exception>
    public ValueTask RequireLive(long epoch, long page, CancellationToken cancellation)
    {
        var now = Environment.TickCount64;
        if (_answers.TryGetValue(epoch, out var answer) && answer.Lookup.IsCompletedSuccessfully && now - answer.SentAt < _leaseMs)
        {
            CheckContains(answer.Lookup.Result, page);
            if (now - answer.SentAt >= _refreshAfterMs && Interlocked.Exchange(ref answer.Refreshing, 1) == 0) _ = RefreshAsync(epoch, answer);
            return ValueTask.CompletedTask;
        }
        return RequireLiveSlowAsync(epoch, page, cancellation);
    }

    /// <summary>Asks again while <paramref name="current"/> still holds, and puts the new answer in its place when it comes.</summary>
    private async Task RefreshAsync(long epoch, Answer current)
    {
        var next = Ask(epoch);
        try
        {
            // Not back on the turn of the page whose request began the refresh: nothing here is that page's.
            await next.Lookup.ConfigureAwait(false);
        }
        catch (RegionFreedException)
        {
            // Freed for good: the new answer says so from now on.
        }
        catch (Exception)
        {
            // The current answer runs out, and the next request asks the slow way, which reports the failure.
            return;
        }
        _answers.TryUpdate(epoch, next, current);
    }

    private async ValueTask RequireLiveSlowAsync(long epoch, long page, CancellationToken cancellation)
    {
        while (true)
        {
            var answer = _answers.AddOrUpdate(epoch,
                Ask,
                (key, existing) => existing.Lookup.IsCompleted && !IsFreed(existing) && Environment.TickCount64 - existing.SentAt >= _leaseMs
                    ? Ask(key)
                    : existing);
            RegionExtent extent;
            try
            {
                extent = await answer.Lookup.WaitAsync(cancellation);
            }
            catch (Exception error) when (error is not RegionFreedException && error is not OperationCanceledException)
            {
                _answers.TryRemove(KeyValuePair.Create(epoch, answer));
                throw;
            }
            // An answer that arrived after its own lease ran out proves nothing: ask again.
            if (Environment.TickCount64 - answer.SentAt < _leaseMs)
            {
                CheckContains(extent, page);
                return;
            }
        }
    }

    private Answer Ask(long epoch)
    {
        var sentAt = Environment.TickCount64;
        return new Answer(Allocation(epoch).GetExtent(epoch), sentAt);
    }

    private static bool IsFreed(Answer answer) => answer.Lookup.Exception?.InnerException is RegionFreedException;

    private static void CheckContains(RegionExtent extent, long page)
    {
        if (!extent.Contains(page))
            throw new ArgumentOutOfRangeException(nameof(page), page, $"Page {page} is not part of allocation epoch {extent.Epoch}.");
    }

    /// <summary>One question about an allocation, and when it was sent; compared by reference, as the dictionary's updates need.</summary>
    private sealed class Answer(Task<RegionExtent> lookup, long sentAt)
    {
        public Task<RegionExtent> Lookup { get; } = lookup;

        public long SentAt { get; } = sentAt;

        // 1 once a refresh of this answer has begun: it is asked again once.
        public int Refreshing;
    }
}
