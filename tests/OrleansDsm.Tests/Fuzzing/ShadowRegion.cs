namespace OrleansDsm.Tests.Fuzzing;

/// <summary>
/// A region as the fuzz test expects it to be: its element kind, its length and the bits of every element written
/// non-zero (an element absent reads as zero, so a sparse region of a trillion elements costs nothing here).
/// </summary>
internal sealed class ShadowRegion(string name, ElementKind kind, long length, Consistency consistency)
{
    private readonly Dictionary<long, ulong> _values = [];

    public string Name { get; } = name;

    public ElementKind Kind { get; } = kind;

    public long Length { get; } = length;

    public Consistency Consistency { get; } = consistency;

    /// <summary>Whether the region has been freed: every handle to it must then fail.</summary>
    public bool Freed { get; set; }

    /// <summary>
    /// Whether this client may hold writes to the region that no release has sent yet (Release regions only). Writes
    /// through a handle of a freed Release region are buffered like any others, and refused at the release.
    /// </summary>
    public bool Unreleased { get; set; }

    /// <summary>Whether writes are buffered in the client until a release.</summary>
    public bool Buffers => Consistency == Consistency.Release;

    public ulong this[long index]
    {
        get => _values.GetValueOrDefault(index);
        set
        {
            if (value == 0) _values.Remove(index);
            else _values[index] = value;
        }
    }

    /// <summary>Whether [start, start + count) lies within the region, written so that no sum overflows.</summary>
    public bool Contains(long start, long count) => start >= 0 && count >= 0 && count <= Length && start <= Length - count;
}
