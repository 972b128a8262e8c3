using System.Net.Sockets;
using OrleansDsm.Grains.Direct;
using OrleansDsm.Grains.Pages;

namespace OrleansDsm.Tests.Units;

/// <summary>A session's revocations stay with the first connection that named it, for as long as that one is open.</summary>
public sealed class DirectSessionsTests
{
    [Fact]
    public void A_later_connection_naming_a_listed_session_does_not_take_it_and_the_first_keeps_it_until_it_ends()
    {
        var sessions = new DirectSessions();
        using var firstSocket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        using var laterSocket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        var first = new DirectSession(firstSocket, new LocalPages(), null!, null!, sessions);
        var later = new DirectSession(laterSocket, new LocalPages(), null!, null!, sessions);
        var session = Guid.NewGuid();

        sessions.Add(session, first);
        sessions.Add(session, later);
        Assert.Same(first, sessions.Find(session));

        // The later one ending takes nothing off the list; the first one ending does.
        sessions.Remove(session, later);
        Assert.Same(first, sessions.Find(session));
        sessions.Remove(session, first);
        Assert.Null(sessions.Find(session));

        // Once the first has ended, a new connection of the session is listed.
        sessions.Add(session, later);
        Assert.Same(later, sessions.Find(session));
    }
}
