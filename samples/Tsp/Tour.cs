namespace OrleansDsm.Samples.Tsp;

/// <summary>The cities and the depth-first branch and bound that both the workers and the sequential check use.</summary>
internal sealed class Tour
{
    private readonly int[,] _distance;

    /// <summary><paramref name="count"/> cities on a 1000 x 1000 grid, the same for a given count.</summary>
    public Tour(int count)
    {
        var random = new Random(count * 7919);
        var (x, y) = (new int[count], new int[count]);
        for (var i = 0; i < count; i++) (x[i], y[i]) = (random.Next(1000), random.Next(1000));
        _distance = new int[count, count];
        for (var a = 0; a < count; a++)
        for (var b = 0; b < count; b++)
            _distance[a, b] = (int)Math.Round(Math.Sqrt(Math.Pow(x[a] - x[b], 2) + Math.Pow(y[a] - y[b], 2)));
        Cities = count;
    }

    public int Cities { get; }

    /// <summary>The subproblems: every choice of second and third city, the first being city 0.</summary>
    public int Subproblems => (Cities - 1) * (Cities - 2);

    /// <summary>The tour's start of subproblem <paramref name="index"/>: 0, then two distinct other cities.</summary>
    public int[] Prefix(int index)
    {
        var second = 1 + index / (Cities - 2);
        var third = 1 + index % (Cities - 2);
        if (third >= second) third++;
        return [0, second, third];
    }

    public long Length(IReadOnlyList<int> tour)
    {
        long length = 0;
        for (var i = 0; i < tour.Count; i++) length += _distance[tour[i], tour[(i + 1) % tour.Count]];
        return length;
    }

    /// <summary>The shortest tour starting with <paramref name="prefix"/> shorter than <paramref name="bound"/>, or null.</summary>
    public (long Length, int[] Tour)? Search(int[] prefix, long bound)
    {
        var path = new int[Cities];
        prefix.CopyTo(path, 0);
        var used = new bool[Cities];
        long sofar = 0;
        for (var i = 0; i < prefix.Length; i++)
        {
            used[prefix[i]] = true;
            if (i > 0) sofar += _distance[prefix[i - 1], prefix[i]];
        }
        (long, int[])? best = null;
        Extend(prefix.Length, sofar);
        return best;

        void Extend(int depth, long length)
        {
            if (length >= bound) return;
            if (depth == Cities)
            {
                var total = length + _distance[path[depth - 1], 0];
                if (total < bound) (bound, best) = (total, (total, (int[])path.Clone()));
                return;
            }
            for (var city = 1; city < Cities; city++)
            {
                if (used[city]) continue;
                (used[city], path[depth]) = (true, city);
                Extend(depth + 1, length + _distance[path[depth - 1], city]);
                used[city] = false;
            }
        }
    }
}
