// Histogram: workers count the values of a large shared input into a shared histogram. Each worker reads its slice a
// chunk at a time, counts the chunk locally, and adds each count to its bin with AddAsync, so workers add to the same
// bins at the same time. The coordinator checks every bin against a count made in this process.
//   dotnet run --project samples/Histogram -- [--gateway host:port] [--workers 2] [--size 200000] [--bins 64] [--mode release|strict]
using OrleansDsm.Samples;
using OrleansDsm.Samples.Histogram;

return await SampleRunner.RunAsync("histogram", args, HistogramRun.CoordinateAsync, HistogramRun.WorkAsync);
