using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using OrleansDsm.Connection;
using OrleansDsm.Tests.Fixtures;
using Polly.Timeout;

namespace OrleansDsm.Tests.Units;

/// <summary>
/// A call whose grain placement outlasts Orleans' timeout fails with Polly's exception: a silo writes it into the
/// response, a client reads it, and a DSM client sends the call again.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class PlacementTimeoutTests(ClusterFixture fixture)
{
    [Fact]
    public void A_placement_timeout_a_silo_answers_with_reaches_the_client_as_itself()
    {
        var silo = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<Serializer>();
        // A client's serializer as Orleans makes it, with nothing of ours.
        using var provider = new ServiceCollection().AddSerializer().BuildServiceProvider();
        var client = provider.GetRequiredService<Serializer>();
        Exception failure = new InvalidOperationException("Placing the page failed.", new TimeoutRejectedException("The placement timed out.", TimeSpan.FromSeconds(5)));

        var read = client.Deserialize<Exception>(silo.SerializeToArray(failure));

        Assert.NotNull(read);
        var timeout = Assert.IsType<TimeoutRejectedException>(read.InnerException);
        Assert.Equal("The placement timed out.", timeout.Message);
    }

    [Fact]
    public async Task A_call_that_failed_because_its_placement_timed_out_is_sent_again_as_a_retry()
    {
        var attempts = new List<bool>();
        var retry = new TransientRetry(TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(10));

        var result = await retry.RunAsync(retry =>
        {
            attempts.Add(retry);
            return attempts.Count == 1
                ? Task.FromException<int>(new InvalidOperationException("Placing the page failed.", new TimeoutRejectedException()))
                : Task.FromResult(42);
        }, CancellationToken.None);

        Assert.Equal(42, result);
        Assert.Equal([false, true], attempts);
    }
}
