using OrleansDsm.Direct;

namespace OrleansDsm.Tests.Units;

/// <summary>
/// What a client's link learns of where pages are: a reply saying a page is elsewhere makes it ask the page, once at a
/// time and not again within a few seconds; a reply from the silo the page is on corrects what it learned before, and
/// what it is learning; a reply of unknown outcome changes nothing.
/// </summary>
public sealed class PageHomesTests
{
    private static readonly DirectEndpoint Gateway = new("10.0.0.1", 4000);
    private static readonly DirectEndpoint Other = new("10.0.0.2", 4000);
    private static readonly DirectEndpoint Third = new("10.0.0.3", 4000);

    [Fact]
    public async Task A_page_said_to_be_elsewhere_is_asked_where_it_is_once_and_its_silo_remembered()
    {
        var asked = new List<long>();
        var answer = new TaskCompletionSource<DirectEndpoint?>();
        var homes = new PageHomes(page =>
        {
            lock (asked) asked.Add(page);
            return answer.Task;
        });

        homes.NotAt(7, Gateway);
        homes.NotAt(7, Gateway); // while the first question is out: not asked again
        Assert.False(homes.TryGet(7, out _));
        answer.SetResult(Other);
        await WaitUntilAsync(() => homes.TryGet(7, out _));

        Assert.Equal([7L], asked);
        Assert.True(homes.TryGet(7, out var home));
        Assert.Equal(Other, home);
        // The gateway's silo passes it on again while the connection to the other is not open yet: not asked again so soon.
        homes.NotAt(7, Gateway);
        Assert.Single(asked);
    }

    [Fact]
    public async Task A_reply_from_the_pages_silo_corrects_what_was_learned_and_one_from_the_silo_it_left_makes_it_ask_again()
    {
        var answers = new Queue<DirectEndpoint?>([Other, Third]);
        var asked = 0;
        var homes = new PageHomes(_ =>
        {
            asked++;
            return Task.FromResult(answers.Dequeue());
        });
        homes.NotAt(3, Gateway);
        await WaitUntilAsync(() => homes.TryGet(3, out _));

        // The page moved to the gateway's silo, which served a request for it.
        homes.At(3, Gateway);
        Assert.True(homes.TryGet(3, out var home));
        Assert.Equal(Gateway, home);

        // The silo it is said to be on says it is not there: forgotten, and asked again at once.
        homes.NotAt(3, Gateway);
        await WaitUntilAsync(() => homes.TryGet(3, out var now) && now == Third);
        Assert.Equal(2, asked);
        // A page nobody learned stays unknown when a silo serves it.
        homes.At(4, Other);
        Assert.False(homes.TryGet(4, out _));
    }

    [Fact]
    public async Task A_reply_from_the_pages_silo_while_it_is_being_asked_is_kept_over_an_answer_that_crossed_its_move()
    {
        var answer = new TaskCompletionSource<DirectEndpoint?>();
        var asked = 0;
        var homes = new PageHomes(_ =>
        {
            Interlocked.Increment(ref asked);
            return answer.Task;
        });
        homes.NotAt(8, Gateway);

        // While the question is out, the page moves to a third silo, which serves a request for it; the answer, sent
        // before the move, names the silo it left.
        homes.At(8, Third);
        Assert.True(homes.TryGet(8, out var home));
        Assert.Equal(Third, home);
        answer.SetResult(Other);
        await Task.Delay(200);

        Assert.True(homes.TryGet(8, out home));
        Assert.Equal(Third, home);
        Assert.Equal(1, asked);
        // A page not being asked is still not learned from a reply alone.
        homes.At(9, Third);
        Assert.False(homes.TryGet(9, out _));
    }

    [Fact]
    public async Task A_reply_of_unknown_outcome_leaves_what_was_learned_where_a_served_one_moves_it()
    {
        var homes = new PageHomes(_ => Task.FromResult<DirectEndpoint?>(Other));
        homes.Replied(5, Gateway, new DirectReply(1, DirectStatus.Done, 0, Elsewhere: true));
        await WaitUntilAsync(() => homes.TryGet(5, out _));

        // Sent through the gateway's silo (the connection to the page's was not open), and that connection broke: the
        // client made the reply itself, and it says nothing of where the page is.
        homes.Replied(5, Gateway, new DirectReply(2, DirectStatus.Unknown, 0));
        Assert.True(homes.TryGet(5, out var home));
        Assert.Equal(Other, home);

        // The gateway's silo served the next as the page's own: the page moved there.
        homes.Replied(5, Gateway, new DirectReply(3, DirectStatus.Done, 0));
        Assert.True(homes.TryGet(5, out home));
        Assert.Equal(Gateway, home);
    }

    [Fact]
    public async Task A_failed_or_empty_answer_leaves_nothing_learned_and_the_page_may_be_asked_again()
    {
        var calls = 0;
        var homes = new PageHomes(_ => ++calls == 1 ? Task.FromException<DirectEndpoint?>(new TimeoutException()) : Task.FromResult<DirectEndpoint?>(null));

        homes.NotAt(9, Gateway);
        homes.NotAt(9, Gateway);
        await WaitUntilAsync(() => calls == 2);

        Assert.False(homes.TryGet(9, out _));
    }

    [Fact]
    public async Task At_most_sixteen_pages_are_asked_at_once_and_a_page_refused_meanwhile_is_asked_once_one_has_answered()
    {
        var asked = new List<long>();
        var answers = new Dictionary<long, TaskCompletionSource<DirectEndpoint?>>();
        var homes = new PageHomes(page =>
        {
            lock (asked)
            {
                asked.Add(page);
                return (answers[page] = new TaskCompletionSource<DirectEndpoint?>()).Task;
            }
        });

        for (var page = 0L; page < 20; page++) homes.NotAt(page, Gateway);
        Assert.Equal(Enumerable.Range(0, 16).Select(page => (long)page), asked);
        // A page being asked takes a reply from the silo that served it over what its question will answer.
        homes.At(3, Other);
        Assert.True(homes.TryGet(3, out var served));
        Assert.Equal(Other, served);

        answers[0].SetResult(Third);
        await WaitUntilAsync(() => homes.TryGet(0, out _));
        homes.NotAt(17, Gateway);
        Assert.Equal(17L, asked[^1]);
        Assert.Equal(17, asked.Count);
        foreach (var answer in answers.Values) answer.TrySetResult(null);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var waited = 0; !condition(); waited += 10)
        {
            Assert.True(waited < 5_000, "the learning did not end within 5 s");
            await Task.Delay(10);
        }
    }
}
