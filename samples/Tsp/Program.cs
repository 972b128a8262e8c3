// TSP: branch and bound over the tours of a few random cities. The work queue is a shared counter of subproblems (the
// tours' second and third cities) and the best tour found so far is shared too; a lock guards both. Each worker takes
// a subproblem under the lock, searches it with the best bound it saw, and publishes a better tour under the lock.
// The coordinator checks the shared tour against an exhaustive search made in this process.
//   dotnet run --project samples/Tsp -- [--gateway host:port] [--workers 2] [--cities 10] [--mode release|strict]
using OrleansDsm.Samples;
using OrleansDsm.Samples.Tsp;

return await SampleRunner.RunAsync("tsp", args, TspRun.CoordinateAsync, TspRun.WorkAsync);
