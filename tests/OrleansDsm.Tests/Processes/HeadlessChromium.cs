using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OrleansDsm.Tests.Processes;

/// <summary>
/// Debian's headless Chromium, driven over the DevTools protocol (a WebSocket to one page): navigate, run script in
/// the page, take a screenshot. Killed, with its throwaway profile deleted, on dispose.
/// </summary>
public sealed class HeadlessChromium : IAsyncDisposable
{
    public const string Binary = "/usr/bin/chromium";

    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket = new();
    private int _nextId;

    private HeadlessChromium(Process process, string profile) => (_process, _profile) = (process, profile);

    /// <summary>Starts Chromium and connects to its first page.</summary>
    /// <exception cref="InvalidOperationException">Chromium is not installed (scripts/test installs it) or did not start.</exception>
    public static async Task<HeadlessChromium> StartAsync()
    {
        if (!File.Exists(Binary))
            throw new InvalidOperationException($"{Binary} is missing: scripts/test installs Debian's chromium package when run as root (apt-get install chromium).");
        var profile = Directory.CreateTempSubdirectory("dsm-chromium-").FullName;
        var start = new ProcessStartInfo(Binary) { RedirectStandardError = true, RedirectStandardOutput = true };
        // No sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        foreach (var argument in new[] { "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--window-size=1400,1000",
                     "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", $"--user-data-dir={profile}", "about:blank" })
            start.ArgumentList.Add(argument);
        var browser = new HeadlessChromium(Process.Start(start)!, profile);
        _ = browser._process.StandardOutput.ReadToEndAsync();
        try
        {
            var port = await browser.DevToolsPortAsync();
            using var http = new HttpClient();
            var targets = JsonNode.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/json/list"))!.AsArray();
            var page = targets.First(target => (string?)target!["type"] == "page")!;
            await browser._socket.ConnectAsync(new Uri((string)page["webSocketDebuggerUrl"]!), CancellationToken.None);
            return browser;
        }
        catch
        {
            await browser.DisposeAsync();
            throw;
        }
    }

    public Task NavigateAsync(string url) => SendAsync("Page.navigate", new JsonObject { ["url"] = url });

    /// <summary>Evaluates <paramref name="expression"/> in the page and returns its value as text (JSON for objects).</summary>
    public async Task<string?> EvaluateAsync(string expression)
    {
        var result = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true, ["awaitPromise"] = true });
        if (result["exceptionDetails"] is { } failure) throw new InvalidOperationException($"The page's script failed: {failure.ToJsonString()}");
        var value = result["result"]?["value"];
        return value is null ? null : value.GetValueKind() == JsonValueKind.String ? (string?)value : value.ToJsonString();
    }

    /// <summary>Evaluates <paramref name="expression"/> until it returns true, or fails after <paramref name="timeout"/>.</summary>
    public async Task WaitUntilAsync(string expression, TimeSpan timeout, string waitingFor)
    {
        var waited = Stopwatch.StartNew();
        while (await EvaluateAsync(expression) != "true")
        {
            if (waited.Elapsed > timeout) throw new TimeoutException($"The page did not show {waitingFor} within {timeout.TotalSeconds:0} s.");
            await Task.Delay(200);
        }
    }

    public async Task ScreenshotAsync(string path)
    {
        var result = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png" });
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllBytesAsync(path, Convert.FromBase64String((string)result["data"]!));
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // A profile file still being released; the temporary directory is cleaned by the system.
        }
    }

    /// <summary>Reads the port Chromium chose from its "DevTools listening on ws://127.0.0.1:PORT/..." line.</summary>
    private async Task<int> DevToolsPortAsync()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await _process.StandardError.ReadLineAsync(deadline.Token) is { } line)
        {
            const string marker = "DevTools listening on ws://127.0.0.1:";
            var at = line.IndexOf(marker, StringComparison.Ordinal);
            if (at < 0) continue;
            var rest = line[(at + marker.Length)..];
            // Chromium writes more to stderr afterwards; keep draining it so it never blocks.
            _ = _process.StandardError.ReadToEndAsync();
            return int.Parse(rest[..rest.IndexOf('/')]);
        }
        throw new InvalidOperationException("Chromium exited before it opened its DevTools port.");
    }

    /// <summary>Sends one DevTools command and returns its result, skipping the events that arrive meanwhile.</summary>
    private async Task<JsonNode> SendAsync(string method, JsonObject parameters)
    {
        var id = ++_nextId;
        var command = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters };
        await _socket.SendAsync(Encoding.UTF8.GetBytes(command.ToJsonString()), WebSocketMessageType.Text, true, CancellationToken.None);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var buffer = new byte[1 << 16];
        while (true)
        {
            using var message = new MemoryStream();
            WebSocketReceiveResult received;
            do
            {
                received = await _socket.ReceiveAsync(buffer, deadline.Token);
                message.Write(buffer, 0, received.Count);
            }
            while (!received.EndOfMessage);
            var reply = JsonNode.Parse(message.ToArray())!;
            if ((int?)reply["id"] != id) continue;
            if (reply["error"] is { } error) throw new InvalidOperationException($"Chromium refused {method}: {error.ToJsonString()}");
            return reply["result"]!;
        }
    }
}
