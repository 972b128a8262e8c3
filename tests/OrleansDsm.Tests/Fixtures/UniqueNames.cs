namespace OrleansDsm.Tests.Fixtures;

/// <summary>Region names that no other test uses, since tests share one cluster.</summary>
public static class UniqueNames
{
    private static int _next;

    public static string For(string purpose) => $"{purpose}-{Interlocked.Increment(ref _next)}";
}
