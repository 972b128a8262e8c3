using System.Globalization;

namespace OrleansDsm.Cli.Transfers;

/// <summary>
/// Where an import or export stands, kept beside its file as <c>FILE.dsm-progress</c> after every chunk, so that
/// <c>--resume</c> carries on after a failure instead of starting again; deleted once the transfer is done.
/// </summary>
/// <param name="Elements">Elements transferred so far, from the first.</param>
/// <param name="FileBytes">Bytes of the file they take up.</param>
internal sealed record TransferProgress(long Elements, long FileBytes)
{
    public static string PathFor(string file) => file + ".dsm-progress";

    /// <summary>The progress a failed transfer of <paramref name="file"/> left, or a clear error when there is none.</summary>
    public static TransferProgress Load(string file, string verb)
    {
        var path = PathFor(file);
        if (!File.Exists(path))
            throw new ArgumentException($"There is no unfinished {verb} of '{file}' to resume ({path} does not exist).");
        var parts = File.ReadAllText(path).Split(' ', StringSplitOptions.TrimEntries);
        return parts.Length == 2 && long.TryParse(parts[0], CultureInfo.InvariantCulture, out var elements) && elements >= 0
                                 && long.TryParse(parts[1], CultureInfo.InvariantCulture, out var bytes) && bytes >= 0
            ? new TransferProgress(elements, bytes)
            : throw new InvalidDataException($"{path} is damaged; delete it and run the {verb} again without --resume.");
    }

    public void Save(string file)
    {
        // Written aside and moved over, so a crash mid-save leaves the previous progress, never half of one.
        var path = PathFor(file);
        File.WriteAllText(path + ".tmp", string.Create(CultureInfo.InvariantCulture, $"{Elements} {FileBytes}"));
        File.Move(path + ".tmp", path, overwrite: true);
    }

    public static void Finish(string file) => File.Delete(PathFor(file));
}
