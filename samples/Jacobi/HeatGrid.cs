namespace OrleansDsm.Samples.Jacobi;

/// <summary>The stencil itself, shared by the workers and the sequential check so both do the same arithmetic.</summary>
public static class HeatGrid
{
    public const double HotEdge = 100.0;

    /// <summary>A size x size grid with the top row hot and everything else cold.</summary>
    public static double[] Initial(int size)
    {
        var grid = new double[size * size];
        Array.Fill(grid, HotEdge, 0, size);
        return grid;
    }

    /// <summary>
    /// Computes rows [first, first + count) of the next grid into <paramref name="next"/> (whole rows, edges copied),
    /// from <paramref name="rows"/>, which holds rows [first - 1, first + count] of the current grid.
    /// </summary>
    public static void Step(int size, ReadOnlySpan<double> rows, int count, Span<double> next)
    {
        for (var r = 0; r < count; r++)
        {
            var above = rows.Slice(r * size, size);
            var here = rows.Slice((r + 1) * size, size);
            var below = rows.Slice((r + 2) * size, size);
            var output = next.Slice(r * size, size);
            output[0] = here[0];
            output[size - 1] = here[size - 1];
            for (var c = 1; c < size - 1; c++) output[c] = 0.25 * (above[c] + below[c] + here[c - 1] + here[c + 1]);
        }
    }

    /// <summary>The grid after <paramref name="iterations"/> steps, computed in this process.</summary>
    public static double[] Sequential(int size, int iterations)
    {
        var (current, next) = (Initial(size), Initial(size));
        for (var i = 0; i < iterations; i++)
        {
            Step(size, current, size - 2, next.AsSpan(size, (size - 2) * size));
            (current, next) = (next, current);
        }
        return current;
    }

    /// <summary>The band of interior rows [first, first + count) worker <paramref name="worker"/> of <paramref name="workers"/> computes.</summary>
    public static (int First, int Count) Band(int size, int worker, int workers)
    {
        var interior = size - 2;
        var first = 1 + interior * worker / workers;
        return (first, 1 + interior * (worker + 1) / workers - first);
    }
}
