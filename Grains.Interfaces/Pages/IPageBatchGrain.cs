namespace OrleansDsm.Pages;

/// <summary>
/// Carries the pieces of several pages in one client call and fans them out to the page grains from inside the
/// silo, so a range operation pays for one network message per batch instead of one per page. Each page's piece is
/// still applied by its page grain, atomically; the batch as a whole is not atomic.
/// </summary>
public interface IPageBatchGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Reads every span and returns each one's bytes, in the order given. The arrays may be the pages' own committed
    /// images (see <see cref="IPageGrain.Read"/>): nobody may change them. Sent as they are, they are not gathered into
    /// one array on the silo, and Orleans does not copy them on their way out.
    /// </summary>
    [ReadOnly]
    Task<Immutable<byte[][]>> Read(long epoch, PageSpan[] spans, CancellationToken cancellation = default);

    /// <summary>
    /// Writes <paramref name="pieces"/>[i] to span i, as request <paramref name="first"/> + i, and returns each page's
    /// new version, in the order given. The pages may keep the arrays (a whole page's piece becomes its image as it
    /// is, as with <see cref="IPageGrain.Write"/>): nobody may change them after the call. Sent apart, the pieces reach
    /// the silo each in an array of its own, so the silo splits nothing.
    /// </summary>
    Task<long[]> Write(long epoch, RequestId first, PageSpan[] spans, [Immutable] byte[][] pieces, CancellationToken cancellation = default);
}
