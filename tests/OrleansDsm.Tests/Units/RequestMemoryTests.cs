using OrleansDsm.Grains.Pages;
using OrleansDsm.Pages;

namespace OrleansDsm.Tests.Units;

/// <summary>
/// A page's memory of recent mutations: results and versions come back for the last 64, whatever the sessions; an
/// older one's retry is known to be possibly applied; each session's id is kept once, and its slot freed when its last
/// mutation is forgotten.
/// </summary>
public sealed class RequestMemoryTests
{
    private static RequestId Apply(PageState page, Guid session, long sequence, ulong value)
    {
        var request = new RequestId(session, sequence);
        page.Version++;
        page.Remember(request, value);
        return request;
    }

    [Fact]
    public void The_last_mutations_of_many_sessions_come_back_with_their_results_and_versions()
    {
        var page = new PageState();
        var sessions = Enumerable.Range(0, 100).Select(_ => Guid.NewGuid()).ToArray();
        var requests = sessions.Select((session, i) => Apply(page, session, sequence: 10 + i, value: (ulong)i * 3)).ToArray();

        Assert.Equal(PageState.RecentRequests, page.Recent.Count);
        Assert.True(page.RecentSessions.Count(session => session != Guid.Empty) <= PageState.RecentRequests);
        for (var i = 0; i < requests.Length; i++)
        {
            if (i < 100 - PageState.RecentRequests)
            {
                Assert.Null(page.Applied(requests[i]));
                Assert.True(page.MayHaveForgotten(requests[i].AsRetry()));
                Assert.False(page.MayHaveForgotten(requests[i]), "a first attempt is never refused");
            }
            else
            {
                Assert.Equal(((ulong)i * 3, (long)(i + 1)), page.Applied(requests[i]));
            }
        }
    }

    [Fact]
    public void One_session_pays_for_its_id_once_and_frees_its_slot_when_forgotten()
    {
        var page = new PageState();
        var busy = Guid.NewGuid();
        Apply(page, busy, 1, 0);
        for (var sequence = 2; sequence <= 200; sequence++) Apply(page, busy, sequence, 0);
        Assert.Equal([busy], page.RecentSessions);

        var other = Guid.NewGuid();
        for (var sequence = 1; sequence <= PageState.RecentRequests; sequence++) Apply(page, other, sequence, 0);

        Assert.DoesNotContain(busy, page.RecentSessions);
        Assert.True(page.MayHaveForgotten(new RequestId(busy, 200, Retry: true)));
        Assert.Equal(page.Version, page.Applied(new RequestId(other, PageState.RecentRequests))!.Value.Version);
    }

    [Fact]
    public void Forgetting_all_keeps_retries_of_forgotten_mutations_from_being_applied_again()
    {
        var page = new PageState();
        var request = Apply(page, Guid.NewGuid(), 5, 1);

        page.ForgetAll();

        Assert.Empty(page.Recent);
        Assert.Null(page.Applied(request));
        Assert.True(page.MayHaveForgotten(request.AsRetry()));
    }
}
