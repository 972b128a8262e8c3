// Jacobi: a 2-D heat stencil on a shared grid of doubles. The top edge is held at 100 degrees, the other edges at 0;
// each iteration sets every interior point to the mean of its four neighbours, reading one grid and writing the other.
// Workers take contiguous bands of rows and meet at a barrier after every iteration. The coordinator checks the final
// grid against the same iterations run in this process on plain arrays: they must be equal to the bit. With
// --mode mapped the workers map both grids into memory and run the stencil on plain spans (see MappedRegion<T>).
//   dotnet run --project samples/Jacobi -- [--gateway host:port] [--workers 2] [--size 64] [--iterations 20] [--mode release|strict|mapped]
using OrleansDsm.Samples;
using OrleansDsm.Samples.Jacobi;

return await SampleRunner.RunAsync("jacobi", args, JacobiRun.CoordinateAsync, JacobiRun.WorkAsync);
