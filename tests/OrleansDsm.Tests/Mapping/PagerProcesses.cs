using System.Globalization;

namespace OrleansDsm.Tests.Mapping;

/// <summary>Finds pager processes, for tests whose subject is the pager's life.</summary>
internal static class PagerProcesses
{
    /// <summary>The process ids of <paramref name="parent"/>'s children that run the pager.</summary>
    public static List<int> ChildrenOf(int parent) =>
        Directory.GetDirectories("/proc").Select(path => Path.GetFileName(path)).Where(name => name.All(char.IsAsciiDigit)).Select(name => int.Parse(name, CultureInfo.InvariantCulture))
            .Where(pid =>
            {
                try
                {
                    var stat = File.ReadAllText($"/proc/{pid}/stat");
                    var parentOfPid = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
                    return parentOfPid == parent && File.ReadAllText($"/proc/{pid}/cmdline").Contains("OrleansDsm.Pager.dll", StringComparison.Ordinal);
                }
                catch (IOException)
                {
                    return false; // the process ended meanwhile
                }
            }).ToList();
}
