namespace OrleansDsm.Tests.Fuzzing;

/// <summary>
/// One random call, as raw numbers that <see cref="FuzzRun"/> reads against the state it has reached: which call (0-99, weighted),
/// which name or handle, where in the region, what value, and one more number (a length, a comparand, a type).
/// Raw numbers keep every step valid in any state, so CsCheck can shrink a failing sequence freely.
/// </summary>
public sealed record FuzzStep(int Call, int Pick, long Where, ulong Bits, int Extra);
