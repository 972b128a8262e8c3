namespace OrleansDsm.Bench.Baseline;

/// <summary>A grain with no state at all: its resident size is what Orleans itself keeps per activation.</summary>
public interface IEmptyGrain : IGrainWithIntegerKey
{
    Task Touch(int value);
}

public sealed class EmptyGrain : Grain, IEmptyGrain
{
    public Task Touch(int value) => Task.CompletedTask;
}
