using System.Net.Sockets;
using OrleansDsm.Direct;
using OrleansDsm.Grains.Direct;
using OrleansDsm.Grains.Pages;

namespace OrleansDsm.Tests.Units;

/// <summary>
/// A session's revocations stay with the first member that named it, for as long as that one is joined; then with the
/// next that named it, as a client's new connection does when it replaces the old one.
/// </summary>
public sealed class DirectSessionsTests
{
    [Fact]
    public void A_later_member_naming_a_listed_session_does_not_take_it_and_the_first_keeps_it_until_it_leaves()
    {
        var sessions = new DirectSessions();
        using var firstSocket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        using var laterSocket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        var session = Guid.NewGuid();
        var first = Member(sessions, firstSocket, 0, session);
        var later = Member(sessions, laterSocket, 3, session);

        sessions.Add(first);
        sessions.Add(later);
        Assert.Same(first, sessions.Find(session));

        // The later one leaving takes nothing off the list; the first one leaving does.
        sessions.Remove(later);
        Assert.Same(first, sessions.Find(session));
        sessions.Remove(first);
        Assert.Null(sessions.Find(session));

        // Once the first has left, a new member of the session is listed.
        sessions.Add(later);
        Assert.Same(later, sessions.Find(session));
    }

    [Fact]
    public void A_member_that_named_a_listed_session_takes_it_once_the_listed_one_goes()
    {
        var sessions = new DirectSessions();
        using var oldSocket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        using var newSocket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        var session = Guid.NewGuid();
        // A client's connection replaced: its members join the new one before the old one ends.
        var old = Member(sessions, oldSocket, 0, session);
        var replacement = Member(sessions, newSocket, 0, session);
        sessions.Add(old);
        sessions.Add(replacement);
        Assert.Same(old, sessions.Find(session));

        sessions.Remove(old);
        Assert.Same(replacement, sessions.Find(session));
        sessions.Remove(replacement);
        Assert.Null(sessions.Find(session));
    }

    /// <summary>Member <paramref name="number"/> of a connection over <paramref name="socket"/>, naming <paramref name="session"/>; nothing here sends on it.</summary>
    private static DirectMember Member(DirectSessions sessions, Socket socket, ushort number, Guid session) =>
        new(new DirectSession(DirectTransport.Plain(socket), new LocalPages(), null!, null!, sessions, null!, null!), number, session);
}
