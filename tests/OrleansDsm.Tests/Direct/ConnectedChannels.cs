using OrleansDsm.Direct;

namespace OrleansDsm.Tests.Direct;

/// <summary>Waits for a client's direct channel, which connects in the background.</summary>
internal static class ConnectedChannels
{
    private static readonly TimeSpan LongestWait = TimeSpan.FromSeconds(20);

    /// <summary><paramref name="client"/>'s channel, once it has a connection open to its gateway's silo.</summary>
    public static async Task<DirectChannel> OfAsync(DsmClient client)
    {
        var channel = client.Direct ?? throw new InvalidOperationException("The client has no direct channel.");
        await OpenAsync(channel);
        return channel;
    }

    /// <summary>Returns once <paramref name="channel"/> has a connection open to its gateway's silo.</summary>
    public static async Task OpenAsync(DirectChannel channel)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (channel.Current is null)
        {
            Assert.True(waited.Elapsed < LongestWait, $"The direct channel did not connect within {LongestWait.TotalSeconds} s.");
            await Task.Delay(20);
        }
    }
}
