namespace OrleansDsm.Barriers;

/// <summary>Where an arrival at a barrier stands: the generation it belongs to, and whether that generation has passed.</summary>
[GenerateSerializer, Immutable]
public readonly record struct BarrierArrival([property: Id(0)] long Generation, [property: Id(1)] bool Passed);
