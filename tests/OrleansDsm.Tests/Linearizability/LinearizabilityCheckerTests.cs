using CsCheck;

namespace OrleansDsm.Tests.Linearizability;

/// <summary>The checker accepts what is linearizable and, as importantly, rejects what is not.</summary>
public sealed class LinearizabilityCheckerTests
{
    private static Operation Op(OperationKind kind, long argument, long? result, long called, long returned, long comparand = 0, int id = 0) =>
        new(id, 0, kind, argument, comparand, result, called, returned);

    [Fact]
    public void A_stale_read_after_a_completed_write_is_rejected()
    {
        Assert.False(LinearizabilityChecker.IsLinearizable(
        [
            Op(OperationKind.Write, 1, 0, 0, 1, id: 1),
            Op(OperationKind.Write, 2, 0, 2, 3, id: 2),
            Op(OperationKind.Read, 0, 1, 4, 5, id: 3),
        ]));
    }

    [Fact]
    public void A_read_concurrent_with_a_write_may_see_either_value_but_never_new_then_old()
    {
        Assert.True(LinearizabilityChecker.IsLinearizable(
        [
            Op(OperationKind.Write, 1, 0, 0, 10, id: 1),
            Op(OperationKind.Read, 0, 0, 1, 2, id: 2),
            Op(OperationKind.Read, 0, 1, 3, 4, id: 3),
        ]));
        Assert.False(LinearizabilityChecker.IsLinearizable(
        [
            Op(OperationKind.Write, 1, 0, 0, 10, id: 1),
            Op(OperationKind.Read, 0, 1, 1, 2, id: 2),
            Op(OperationKind.Read, 0, 0, 3, 4, id: 3),
        ]));
    }

    [Fact]
    public void A_lost_update_between_two_adds_is_rejected()
    {
        Assert.False(LinearizabilityChecker.IsLinearizable(
        [
            Op(OperationKind.Add, 1, 1, 0, 5, id: 1),
            Op(OperationKind.Add, 1, 1, 1, 6, id: 2),
        ]));
    }

    [Fact]
    public void Compare_exchange_results_must_match_the_value_they_saw()
    {
        Assert.True(LinearizabilityChecker.IsLinearizable(
        [
            Op(OperationKind.CompareExchange, 5, 0, 0, 1, comparand: 0, id: 1),
            Op(OperationKind.CompareExchange, 6, 5, 2, 3, comparand: 0, id: 2),
            Op(OperationKind.Read, 0, 5, 4, 5, id: 3),
        ]));
        Assert.False(LinearizabilityChecker.IsLinearizable(
        [
            Op(OperationKind.CompareExchange, 5, 0, 0, 1, comparand: 0, id: 1),
            Op(OperationKind.Read, 0, 0, 2, 3, id: 2),
        ]));
    }

    [Fact]
    public void An_operation_with_an_unknown_outcome_may_have_happened_or_not_but_only_once()
    {
        var pendingWrite = Op(OperationKind.Write, 5, null, 0, long.MaxValue, id: 1);
        Assert.True(LinearizabilityChecker.IsLinearizable([pendingWrite, Op(OperationKind.Read, 0, 0, 1, 2, id: 2)]));
        Assert.True(LinearizabilityChecker.IsLinearizable([pendingWrite, Op(OperationKind.Read, 0, 0, 1, 2, id: 2), Op(OperationKind.Read, 0, 5, 3, 4, id: 3)]));
        Assert.False(LinearizabilityChecker.IsLinearizable([pendingWrite, Op(OperationKind.Read, 0, 5, 1, 2, id: 2), Op(OperationKind.Read, 0, 0, 3, 4, id: 3)]));
    }

    /// <summary>A random sequential run, its intervals widened around the real order of execution.</summary>
    private static readonly Gen<List<Operation>> Histories =
        Gen.Select(Gen.Int[0, 4], Gen.Long[1, 50], Gen.Int[0, 6]).Array[1, 40].Select(steps =>
        {
            var state = 0L;
            var history = new List<Operation>();
            for (var i = 0; i < steps.Length; i++)
            {
                var (kind, value, slack) = steps[i];
                var operation = Op((OperationKind)kind, kind == (int)OperationKind.Add ? value : 1000 + i, null, 10 * i - slack, 10 * i + slack,
                    comparand: i % 2 == 0 ? state : -1, id: i);
                var (_, next) = RegisterModel.Step(state, operation);
                var returns = (OperationKind)kind switch
                {
                    OperationKind.Write => 0,
                    OperationKind.Add => next,
                    _ => state,
                };
                history.Add(operation with { Result = returns });
                state = next;
            }
            return history;
        });

    [Fact]
    public void Every_history_produced_by_a_sequential_run_is_accepted()
    {
        Histories.Sample(history => Assert.True(LinearizabilityChecker.IsLinearizable(history)), iter: 500);
    }

    [Fact]
    public void A_read_of_a_value_nobody_wrote_is_always_rejected()
    {
        Histories.Select(Gen.Int[0, 1000]).Sample((history, pick) =>
        {
            var reads = history.Where(op => op.Kind == OperationKind.Read).ToList();
            if (reads.Count == 0) return;
            var forged = reads[pick % reads.Count];
            var corrupted = history.Select(op => op == forged ? op with { Result = -999 } : op).ToList();
            Assert.False(LinearizabilityChecker.IsLinearizable(corrupted));
        }, iter: 500);
    }
}
