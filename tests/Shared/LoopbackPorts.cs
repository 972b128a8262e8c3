using System.Net;
using System.Net.Sockets;

namespace OrleansDsm.Testing;

/// <summary>
/// Loopback ports for the silos, databases and servers that the tests and the bench start. One source file, compiled
/// into both.
/// </summary>
internal static class LoopbackPorts
{
    private static readonly HashSet<int> HandedOut = [];

    /// <summary>
    /// A TCP port that was free a moment ago and was never handed out before by this process. The kernel may give a
    /// port it just let go again at once, and a silo's port and its gateway's are asked for one after the other:
    /// once, both came back the same, and the silo refused to start.
    /// </summary>
    public static int Free()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            lock (HandedOut)
                if (HandedOut.Add(port)) return port;
        }
    }
}
