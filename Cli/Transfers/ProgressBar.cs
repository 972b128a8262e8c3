namespace OrleansDsm.Cli.Transfers;

/// <summary>A progress bar on stderr, redrawn in place; silent when stderr is not a terminal, so scripts see only results.</summary>
internal sealed class ProgressBar(string what, long total)
{
    private const int Width = 30;
    private readonly bool _shown = !Console.IsErrorRedirected;
    private int _lastPercent = -1;

    public void Report(long done)
    {
        if (!_shown) return;
        var percent = total == 0 ? 100 : (int)(done * 100 / total);
        if (percent == _lastPercent) return;
        _lastPercent = percent;
        var filled = percent * Width / 100;
        Console.Error.Write($"\r{what} [{new string('#', filled)}{new string('.', Width - filled)}] {percent,3}% {done}/{total} elements");
    }

    public void Done()
    {
        if (_shown && _lastPercent >= 0) Console.Error.WriteLine();
    }
}
