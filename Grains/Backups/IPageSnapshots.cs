namespace OrleansDsm.Grains.Backups;

/// <summary>
/// Opens consistent snapshots of the stored pages, for backups. A silo registers one only when its page storage can
/// (PostgreSQL with the batched page store).
/// </summary>
public interface IPageSnapshots
{
    /// <summary>Opens a snapshot: every page committed before it opened, nothing committed after.</summary>
    Task<IPageSnapshot> OpenAsync(CancellationToken cancellation);
}

/// <summary>The stored pages as of one moment, read in page-key order.</summary>
public interface IPageSnapshot : IAsyncDisposable
{
    /// <summary>The next at most <paramref name="count"/> stored pages as (page number, stored payload); empty at the end.</summary>
    Task<IReadOnlyList<(long Page, byte[] Payload)>> NextAsync(int count, CancellationToken cancellation);
}
