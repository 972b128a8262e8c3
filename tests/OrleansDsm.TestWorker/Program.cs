// A client process for multi-process tests. It connects to gateways (GATEWAY: host:port[,host:port...], or an Npgsql
// connection string "Host=..." of the membership table, whose live gateways it then uses) and runs one workload:
//   add GATEWAY CLUSTER SERVICE REGION INDEX COUNT CONCURRENCY
//   history GATEWAY CLUSTER SERVICE REGION CELLS TASKS OPERATIONS PROCESS OUTPUT
//   lock-count GATEWAY CLUSTER SERVICE REGION LOCK COUNT
//   lock-hold GATEWAY CLUSTER SERVICE LOCK LEASE
//   map-touch GATEWAY CLUSTER SERVICE REGION PAGE FAULT-TIMEOUT
//   map-try GATEWAY CLUSTER SERVICE REGION
//   map-unmap GATEWAY CLUSTER SERVICE REGION ROUNDS
//   map-ahead GATEWAY CLUSTER SERVICE REGION FAULT-TIMEOUT
//   map-idle GATEWAY CLUSTER SERVICE REGION
using OrleansDsm;
using OrleansDsm.Connection;
using OrleansDsm.TestWorker;

if (args.Length < 4)
{
    Console.Error.WriteLine("usage: add|history|lock-count|lock-hold|map-touch|map-try|map-unmap|map-ahead|map-idle GATEWAY CLUSTER SERVICE ...");
    return 2;
}

var options = args[1].StartsWith("Host=", StringComparison.Ordinal)
    ? new DsmClientOptions { MembershipConnectionString = args[1], ClusterId = args[2], ServiceId = args[3], ConnectTimeout = TimeSpan.FromSeconds(30) }
    : new DsmClientOptions { Gateways = args[1].Split(','), ClusterId = args[2], ServiceId = args[3] };
await using var client = await DsmClient.ConnectAsync(options);
switch (args)
{
    case ["add", _, _, _, var region, var index, var count, var concurrency]:
        await AddWorkload.RunAsync(client, region, long.Parse(index), int.Parse(count), int.Parse(concurrency));
        return 0;
    case ["history", _, _, _, var region, var cells, var tasks, var operations, var process, var output]:
        await HistoryWorkload.RunAsync(client, region, int.Parse(cells), int.Parse(tasks), int.Parse(operations), int.Parse(process), output);
        return 0;
    case ["lock-count", _, _, _, var region, var lockName, var count]:
        await LockWorkload.CountAsync(client, region, lockName, int.Parse(count));
        return 0;
    case ["lock-hold", _, _, _, var lockName, var lease]:
        await LockWorkload.HoldAsync(client, lockName, TimeSpan.Parse(lease, System.Globalization.CultureInfo.InvariantCulture));
        return 0;
    case ["map-touch", _, _, _, var region, var page, var faultTimeout]:
        await MapWorkload.TouchAsync(client, region, long.Parse(page), TimeSpan.Parse(faultTimeout, System.Globalization.CultureInfo.InvariantCulture));
        return 0;
    case ["map-try", _, _, _, var region]:
        return await MapWorkload.TryMapAsync(client, region);
    case ["map-unmap", _, _, _, var region, var rounds]:
        await MapWorkload.MapAndUnmapAsync(client, region, int.Parse(rounds));
        return 0;
    case ["map-ahead", _, _, _, var region, var faultTimeout]:
        await MapWorkload.ReadAheadThenWaitAsync(client, region, TimeSpan.Parse(faultTimeout, System.Globalization.CultureInfo.InvariantCulture));
        return 0;
    case ["map-idle", _, _, _, var region]:
        await MapWorkload.MapThenIdleAsync(client, region);
        return 0;
    default:
        Console.Error.WriteLine($"unknown workload: {string.Join(' ', args)}");
        return 2;
}
