namespace OrleansDsm.Arrays;

/// <summary>
/// A handle to a region that can only read it: the reads of <see cref="SharedArray{T}"/>, with the same memory model
/// and the same page cache, and no way to write, update atomically, fence or learn the owner token. Hand it to code
/// that must not change the region.
/// </summary>
/// <remarks>
/// The restriction is in the handle, not in the cluster: any client of the cluster may still open the region for
/// writing (see docs/security.md). In a <see cref="Consistency.Release"/> region a read-only handle sees this client's
/// unreleased writes, as every handle of the client does.
/// </remarks>
/// <typeparam name="T">The element type.</typeparam>
public sealed class ReadOnlySharedArray<T> where T : unmanaged
{
    private readonly SharedArray<T> _array;

    internal ReadOnlySharedArray(SharedArray<T> array) => _array = array;

    /// <summary>The region's metadata: name, base address, type, epoch and consistency.</summary>
    public RegionDescriptor Region => _array.Region;

    /// <summary>The region's name.</summary>
    public string Name => _array.Name;

    /// <summary>How many elements the array holds.</summary>
    public long Length => _array.Length;

    /// <summary>The address of element 0.</summary>
    public GlobalAddress BaseAddress => _array.BaseAddress;

    /// <summary>Reads one element, blocking the calling thread; see <see cref="SharedArray{T}.this[long]"/>.</summary>
    public T this[long index] => _array[index];

    /// <inheritdoc cref="SharedArray{T}.GetAsync"/>
    public ValueTask<T> GetAsync(long index, CancellationToken cancellation = default) => _array.GetAsync(index, cancellation);

    /// <inheritdoc cref="SharedArray{T}.ReadAsync"/>
    public Task ReadAsync(long start, Memory<T> destination, CancellationToken cancellation = default) =>
        _array.ReadAsync(start, destination, cancellation);

    /// <inheritdoc cref="SharedArray{T}.WaitForChangeAsync"/>
    public Task<bool> WaitForChangeAsync(long index, T expected, TimeSpan timeout, CancellationToken cancellation = default) =>
        _array.WaitForChangeAsync(index, expected, timeout, cancellation);

    /// <inheritdoc />
    public override string ToString() => $"{_array} (read-only)";
}
