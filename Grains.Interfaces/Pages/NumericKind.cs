namespace OrleansDsm.Pages;

/// <summary>The element types on which a page grain performs atomic addition.</summary>
public enum NumericKind : byte
{
    /// <summary><see cref="int"/>, wrapping on overflow as <c>Interlocked.Add</c> does.</summary>
    Int32,
    /// <summary><see cref="long"/>, wrapping on overflow.</summary>
    Int64,
    /// <summary><see cref="uint"/>, wrapping on overflow.</summary>
    UInt32,
    /// <summary><see cref="ulong"/>, wrapping on overflow.</summary>
    UInt64,
    /// <summary><see cref="float"/>, IEEE 754 addition.</summary>
    Float32,
    /// <summary><see cref="double"/>, IEEE 754 addition.</summary>
    Float64,
}
