namespace OrleansDsm.Samples;

/// <summary>What a sample's coordinator found: what ran, how long it took, whether the answer is right, and how it was checked.</summary>
/// <param name="Description">The run, for example "jacobi 64x64, 20 iterations, 2 workers, Release".</param>
/// <param name="Elapsed">From the workers' start line to their finish line.</param>
/// <param name="Traffic">What the workers exchanged with the cluster meanwhile.</param>
/// <param name="Sequential">How long the same computation took on plain arrays in the coordinator's process.</param>
/// <param name="Correct">Whether the shared-memory answer equals the sequential one.</param>
/// <param name="Check">What was compared, with the figures.</param>
public sealed record SampleOutcome(string Description, TimeSpan Elapsed, Traffic Traffic, TimeSpan Sequential, bool Correct, string Check);
