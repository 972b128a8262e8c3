namespace OrleansDsm.Caching;

/// <summary>
/// This client's lease on one silo in one term (<see cref="LeaseGrant.Term"/>): until when, on
/// <see cref="LeaseClock"/>, copies of that silo's pages cached in the term may be served. It only ever moves forward,
/// counted from when the renewing request was sent; a new term gets a new lease, so nothing revives copies of an old one.
/// </summary>
internal sealed class SiloLease(string silo, long term)
{
    // In nanoseconds on LeaseClock, the unit a cached hit compares in; always a whole number of milliseconds.
    private long _validUntil;

    public string Silo { get; } = silo;

    public long Term { get; } = term;

    /// <summary>A page of this silo to renew through; any cached page of the silo will do.</summary>
    public long Representative { get; set; }

    /// <summary>The lease's end, in nanoseconds on <see cref="LeaseClock.NowNanoseconds"/>: copies may be served while that clock is before it.</summary>
    public long ValidUntilNanoseconds => Volatile.Read(ref _validUntil);

    /// <summary>Extends the lease to <paramref name="sentAt"/> plus the silo's lease, less a safety margin for clock-rate drift and tick granularity.</summary>
    public void Extend(long sentAt, int leaseMilliseconds)
    {
        var until = (sentAt + leaseMilliseconds - SafetyMargin(leaseMilliseconds)) * 1_000_000;
        long current;
        while ((current = Volatile.Read(ref _validUntil)) < until)
            if (Interlocked.CompareExchange(ref _validUntil, until, current) == current) return;
    }

    public static int SafetyMargin(int leaseMilliseconds) => leaseMilliseconds / 10 + 5;
}
