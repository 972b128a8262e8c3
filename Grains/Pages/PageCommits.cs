namespace OrleansDsm.Grains.Pages;

/// <summary>
/// Group commit for one page. The page keeps two images: the committed one, which storage holds and every read and
/// fill sees, and a pending one, where writes apply while an earlier storage write is still running. One storage
/// write at a time carries everything pending when it starts, so many concurrent writes to a hot page cost one write
/// each round instead of one each. A write is acknowledged only once a storage write that carries it has completed
/// and been published, so nobody ever reads a value that a crash could take back.
/// Used from its page grain's thread only.
/// </summary>
/// <param name="stored">The page's persistent state; its <c>State</c> is whatever was last handed to storage.</param>
/// <param name="publish">
/// Runs after a storage write succeeds and before its image becomes the committed one: the page revokes cached copies
/// older than the image there.
/// </param>
internal sealed class PageCommits(IPersistentState<PageState> stored, Func<PageState, Task> publish)
{
    private PageState? _pending;
    private PageState? _inFlight;
    private Task? _writing;
    private Task _publication = Task.CompletedTask;
    private long _changes;
    private long _committedThrough;

    /// <summary>What storage holds: the only image reads and fills may see.</summary>
    public PageState Committed { get; private set; } = stored.State;

    /// <summary>Whether storage holds a record for the page.</summary>
    public bool CommittedExists { get; private set; } = stored.RecordExists;

    /// <summary>The newest image, with every change applied, stored or not: what the next write builds on.</summary>
    public PageState Latest => _pending ?? _inFlight ?? Committed;

    /// <summary>Completes when no committed image is being published (cached copies older than it being revoked).</summary>
    public Task Publication => _publication;

    /// <summary>Whether changes are waiting for, or in, a storage write.</summary>
    public bool Idle => _committedThrough == _changes;

    /// <summary>The pending image, for a change about to be made to it; <see cref="CommitAsync"/> then stores it.</summary>
    public PageState Change()
    {
        _changes++;
        return _pending ??= Latest.Clone();
    }

    /// <summary>
    /// Completes once every change made so far is committed and published. If the storage write that carries them
    /// fails, every change not yet committed is dropped and every caller waiting for one gets the error.
    /// </summary>
    public async Task CommitAsync()
    {
        var mine = _changes;
        while (_committedThrough < mine)
        {
            var current = _writing ??= WriteOnceAsync();
            try
            {
                await current;
            }
            finally
            {
                if (ReferenceEquals(_writing, current)) _writing = null;
            }
        }
    }

    /// <summary>After storage dropped the page's record: the committed image becomes <paramref name="empty"/>.</summary>
    public void Cleared(PageState empty)
    {
        if (!Idle) throw new InvalidOperationException("A page's record is cleared only when no change is pending.");
        stored.State = Committed = empty;
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
            await stored.WriteStateAsync();
        }
        catch
        {
            // Whether storage took the write is unknown; the page deactivates, and the next activation reads what it holds.
            (_pending, _inFlight, _changes) = (null, null, _committedThrough);
            stored.State = Committed;
            throw;
        }
        var publication = PublishAsync(image, covers);
        _publication = publication;
        await publication;
    }

    /// <summary>
    /// Publishes a stored image and makes it the committed one in the same turn as the publication completes, so that a
    /// fill resuming after the publication never sees the image before it.
    /// </summary>
    private async Task PublishAsync(PageState image, long covers)
    {
        await publish(image);
        (Committed, CommittedExists, _inFlight, _committedThrough) = (image, true, null, covers);
    }
}
