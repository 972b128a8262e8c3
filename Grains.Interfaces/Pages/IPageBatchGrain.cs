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
    /// Writes <paramref name="bytes"/>, which holds every span's bytes back to back, in the order given; returns each
    /// page's new version. Span i is written as request <paramref name="first"/> + i.
    /// </summary>
    Task<long[]> Write(long epoch, RequestId first, PageSpan[] spans, [Immutable] byte[] bytes, CancellationToken cancellation = default);
}
