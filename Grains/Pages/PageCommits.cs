using OrleansDsm.Grains.Persistence;

namespace OrleansDsm.Grains.Pages;

/// <summary>
/// Group commit for one page. The page keeps two images: the committed one, which storage holds and every read and
/// fill sees, and a pending one, where writes apply while an earlier storage write is still running. One storage
/// write at a time carries everything pending when it starts, so many concurrent writes to a hot page cost one write
/// each round instead of one each. A write is acknowledged only once a storage write that carries it has completed
/// and been published, so nobody ever reads a value that a crash could take back.
/// <para>Write-behind (opt-in) turns the order round for acknowledgments: <see cref="ShowAsync"/> publishes what is
/// pending without storing it, so the committed image runs ahead of <see cref="Stored"/>, and
/// <see cref="StoreShownAsync"/> catches storage up later. <see cref="CommitAsync"/> still stores everything.</para>
/// Used from its page grain's thread only, but for <see cref="Committed"/>, which other threads may read.
/// </summary>
/// <param name="stored">The page's state in its storage provider; its <c>State</c> is whatever was last handed to storage.</param>
/// <param name="publisher">
/// Called after a storage write succeeds and before its image becomes the committed one: the page revokes cached copies
/// older than the image there.
/// </param>
/// <param name="metrics">The silo's counters, which time every storage write.</param>
/// <param name="writeBehind">Whether writes are acknowledged through <see cref="ShowAsync"/>; then every storage write goes through <see cref="StoreShownAsync"/>.</param>
internal sealed class PageCommits(DirectState<PageState> stored, PageCommits.IPublisher publisher, Metrics.SiloMetrics metrics, bool writeBehind)
{
    /// <summary>What a page does with an image between storing it and making it the committed one.</summary>
    public interface IPublisher
    {
        /// <summary>Readies <paramref name="image"/>, which storage now holds (or, with write-behind, soon will), to be what reads see.</summary>
        Task PublishAsync(PageState image);
    }

    private PageState? _pending;
    private PageState? _inFlight;
    // Each made on first use: write-through uses only the first, write-behind only the other two, and a silo holds a
    // page grain for every active page, so every object a page keeps counts.
    private SingleFlight? _writing;
    private SingleFlight? _showing;
    private SingleFlight? _storing;
    private Task _publication = Task.CompletedTask;
    private long _changes;
    private long _committedThrough;
    private long _storedThrough;

    // Volatile: batch reads on other threads of the silo look at it (see LocalPages).
    private volatile PageState _committed = stored.State;

    /// <summary>The published image: the only one reads and fills may see. Storage holds it, unless write-behind is catching up.</summary>
    public PageState Committed { get => _committed; private set => _committed = value; }

    /// <summary>The newest image storage is known to hold.</summary>
    public PageState Stored { get; private set; } = stored.State;

    /// <summary>Whether storage holds a record for the page.</summary>
    public bool CommittedExists { get; private set; } = stored.RecordExists;

    /// <summary>The newest image, with every change applied, stored or not: what the next write builds on.</summary>
    public PageState Latest => _pending ?? _inFlight ?? Committed;

    /// <summary>Completes when no committed image is being published (cached copies older than it being revoked).</summary>
    public Task Publication => _publication;

    /// <summary>Whether storage holds every change.</summary>
    public bool Idle => _committedThrough == _changes && _storedThrough == _changes;

    /// <summary>
    /// The pending image, for a change about to be made to it; <see cref="CommitAsync"/> then stores it. Given
    /// <paramref name="wholePage"/>, the change replaces every byte: the image takes that array as its bytes, with
    /// nothing copied, and the caller must never change the array again.
    /// </summary>
    public PageState Change(byte[]? wholePage = null)
    {
        _changes++;
        if (_pending is null) return _pending = Latest.Clone(wholePage);
        // Not yet published, so no reader holds the pending image's bytes: they may be swapped.
        if (wholePage is not null) _pending.Bytes = wholePage;
        return _pending;
    }

    /// <summary>
    /// Completes once every change made so far is committed and published. If the storage write that carries them
    /// fails, every change not yet committed is dropped and every caller waiting for one gets the error.
    /// </summary>
    public async Task CommitAsync()
    {
        if (writeBehind)
        {
            // Published first, then stored: the two kinds of storage write never run side by side.
            var through = _changes;
            while (_storedThrough < through)
            {
                await ShowAsync();
                await StoreShownAsync();
            }
            return;
        }
        var mine = _changes;
        while (_committedThrough < mine) await (_writing ??= new()).JoinAsync(WriteOnceAsync);
    }

    /// <summary>
    /// Write-behind's acknowledgment: completes once every change made so far is published (older cached copies
    /// revoked) and is what reads see, stored or not. Storage catches up through <see cref="StoreShownAsync"/>.
    /// </summary>
    public async Task ShowAsync()
    {
        var mine = _changes;
        while (_committedThrough < mine) await (_showing ??= new()).JoinAsync(ShowOnceAsync);
    }

    /// <summary>
    /// Stores the committed image if storage is behind it. If the storage write fails, the image stays published and
    /// unstored, and the error goes to the caller, who may try again.
    /// </summary>
    public async Task StoreShownAsync()
    {
        if (_storing is not null) await _storing.IdleAsync();
        if (_storedThrough == _committedThrough) return;
        var (image, covers) = (Committed, _committedThrough);
        await (_storing ??= new()).JoinAsync(() => StoreOnceAsync(image, covers));
    }

    /// <summary>After storage dropped the page's record: the committed image becomes <paramref name="empty"/>.</summary>
    public void Cleared(PageState empty)
    {
        if (!Idle) throw new InvalidOperationException("A page's record is cleared only when no change is pending.");
        stored.State = Committed = Stored = empty;
        CommittedExists = false;
    }

    private async Task WriteOnceAsync()
    {
        var covers = _changes;
        var image = _pending!;
        image.Seal();
        (_pending, _inFlight) = (null, image);
        stored.State = image;
        try
        {
            await StoreAsync();
        }
        catch
        {
            // Whether storage took the write is unknown; the page deactivates, and the next activation reads what it holds.
            (_pending, _inFlight, _changes) = (null, null, _committedThrough);
            stored.State = Committed;
            throw;
        }
        (Stored, _storedThrough) = (image, covers);
        var publication = PublishAsync(image, covers);
        _publication = publication;
        await publication;
    }

    private async Task ShowOnceAsync()
    {
        var covers = _changes;
        var image = _pending!;
        (_pending, _inFlight) = (null, image);
        var publication = PublishAsync(image, covers);
        _publication = publication;
        await publication;
    }

    private async Task StoreOnceAsync(PageState image, long covers)
    {
        // A published image never changes again (changes go to a clone), so storing it while newer ones are shown is safe.
        image.Seal();
        stored.State = image;
        try
        {
            await StoreAsync();
        }
        catch
        {
            stored.State = Stored;
            throw;
        }
        (Stored, _storedThrough) = (image, covers);
    }

    /// <summary>Writes the page's record, timing it for the silo's storage-write metric; a failure is counted apart.</summary>
    private async Task StoreAsync()
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            await stored.WriteAsync();
        }
        catch (Exception error)
        {
            metrics.StorageWriteFailed(error);
            throw;
        }
        metrics.StorageWritten(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>
    /// Publishes a stored image and makes it the committed one in the same turn as the publication completes, so that a
    /// fill resuming after the publication never sees the image before it.
    /// </summary>
    private async Task PublishAsync(PageState image, long covers)
    {
        await publisher.PublishAsync(image);
        (Committed, CommittedExists, _inFlight, _committedThrough) = (image, true, null, covers);
    }
}
