// A client process for multi-process tests: it connects to a gateway and runs one workload against a region.
// Usage: add GATEWAY REGION INDEX COUNT CONCURRENCY   (int64 region; prints "added COUNT" when done)
using OrleansDsm;
using OrleansDsm.Connection;

if (args is not ["add", var gateway, var region, var indexText, var countText, var concurrencyText])
{
    Console.Error.WriteLine("usage: add GATEWAY REGION INDEX COUNT CONCURRENCY");
    return 2;
}

var index = long.Parse(indexText);
var count = int.Parse(countText);
var concurrency = int.Parse(concurrencyText);
await using var client = await DsmClient.ConnectAsync(new DsmClientOptions { Gateways = [gateway] });
var array = await client.OpenAsync<long>(region);

var remaining = count;
await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
{
    while (Interlocked.Decrement(ref remaining) >= 0) await array.AddAsync(index, 1);
}));
Console.WriteLine($"added {count}");
return 0;
