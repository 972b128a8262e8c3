using System.Collections.Concurrent;

namespace OrleansDsm.Direct;

/// <summary>
/// Where pages are active, as far as a link has learned: the direct endpoint of each page's silo. A silo answers a
/// request for a page active elsewhere by passing it on as a call (or refusing a fill it cannot make), and says so in
/// its reply (see <see cref="DirectReply.Elsewhere"/>); the link then asks the page where it is (<c>learn</c>, in the
/// background) and sends its later requests for the page to that silo. A page that moves leaves a stale entry, which
/// the next such reply replaces, as does a reply from the silo the page moved to, even one that comes while the page is
/// being asked (the answer may have crossed the move, so it does not replace the reply). Bounded: a link that has learned
/// <see cref="MostPages"/> pages starts afresh.
/// </summary>
/// <param name="learn">Asks a page for its silo's endpoint; null when it has none this link may use.</param>
internal sealed class PageHomes(Func<long, Task<DirectEndpoint?>> learn)
{
    /// <summary>How many pages a link remembers (about 100 bytes each).</summary>
    public const int MostPages = 100_000;

    // Pages asked at once: learning is a call each, which the requests it speeds up must not be held up behind.
    private const int MostLearning = 16;

    // A page is asked again at most this often, so that requests for a page whose silo cannot be reached are not
    // doubled by a call each.
    private const long RelearnMs = 5_000;

    private readonly ConcurrentDictionary<long, Home> _homes = new();
    // Numbers every entry written, so that a learning call's answer does not overwrite a reply that came after it began.
    private long _written;
    private readonly ConcurrentDictionary<long, byte> _learning = new();
    // Kept beside _learning, whose Count would take every one of its locks: raised before a page is added there and
    // lowered after it is removed, so it is never 0 while some page is being asked (what At relies on to skip the lookup).
    private int _learningCount;

    /// <summary>The endpoint of <paramref name="page"/>'s silo, if learned.</summary>
    public bool TryGet(long page, out DirectEndpoint endpoint)
    {
        if (_homes.TryGetValue(page, out var home))
        {
            endpoint = home.Endpoint;
            return true;
        }
        endpoint = null!;
        return false;
    }

    /// <summary>
    /// A request for <paramref name="page"/> was answered over the connection to <paramref name="via"/> with
    /// <paramref name="reply"/>, which says whether the page was on that silo (see <see cref="At"/> and
    /// <see cref="NotAt"/>). An <see cref="DirectStatus.Unknown"/> one says nothing: it is often made by the client
    /// itself, when the connection broke or the reply was late, so it must not move a page to the silo it was sent to.
    /// </summary>
    public void Replied(long page, DirectEndpoint via, DirectReply reply)
    {
        if (reply.Status == DirectStatus.Unknown) return;
        if (reply.Elsewhere) NotAt(page, via);
        else At(page, via);
    }

    /// <summary>
    /// The silo at <paramref name="via"/> served a request for <paramref name="page"/> as the page's own: the page is
    /// there, whatever was learned before (it moved there since, or a learning call crossed its move), or is being asked.
    /// </summary>
    public void At(long page, DirectEndpoint via)
    {
        if (_homes.TryGetValue(page, out var known) ? known.Endpoint != via : Volatile.Read(ref _learningCount) > 0 && _learning.ContainsKey(page))
            _homes[page] = new Home(via, Environment.TickCount64, Interlocked.Increment(ref _written));
    }

    /// <summary>The silo at <paramref name="via"/> said <paramref name="page"/> was not active there.</summary>
    public void NotAt(long page, DirectEndpoint via)
    {
        var now = Environment.TickCount64;
        if (_homes.TryGetValue(page, out var known))
        {
            if (known.Endpoint == via) _homes.TryRemove(page, out _);
            else if (now - known.LearnedAt < RelearnMs) return;
        }
        // Taken before the page is marked as being asked: what a reply writes once it is marked is newer than the answer.
        var asked = Interlocked.Read(ref _written);
        if (Interlocked.Increment(ref _learningCount) > MostLearning || !_learning.TryAdd(page, 0))
        {
            Interlocked.Decrement(ref _learningCount);
            return;
        }
        _ = LearnAsync(page, now, asked);
    }

    /// <summary>Asks <paramref name="page"/> where it is, and keeps the answer unless a reply said so since <paramref name="asked"/>.</summary>
    private async Task LearnAsync(long page, long now, long asked)
    {
        try
        {
            if (await learn(page).ConfigureAwait(false) is not { } endpoint) return;
            if (_homes.Count >= MostPages) _homes.Clear();
            var learned = new Home(endpoint, now, Interlocked.Increment(ref _written));
            _homes.AddOrUpdate(page, learned, (_, current) => current.Written > asked ? current : learned);
        }
        catch (Exception)
        {
            // Only a hint lost: the page's requests keep going where they went.
        }
        finally
        {
            _learning.TryRemove(page, out _);
            Interlocked.Decrement(ref _learningCount);
        }
    }

    private sealed record Home(DirectEndpoint Endpoint, long LearnedAt, long Written);
}
