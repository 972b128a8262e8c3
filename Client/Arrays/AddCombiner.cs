namespace OrleansDsm.Arrays;

/// <summary>
/// Software combining of one array's integer adds: while an add to an element is in flight, later adds to the same
/// element wait, then go out together as one add of their sum. A hot counter bumped by many tasks of a process then
/// costs one call per round trip instead of one per add.
/// <para>Each caller gets the value its own add would have left had the batch's adds run one after another in the
/// order they joined. That is a valid linearization: every add of a batch was in flight when the page applied the sum.
/// Integers wrap, so both the sum and each caller's value are exact; floating point is never combined, since its
/// rounding depends on the order of the adds.</para>
/// <para>A caller cancelled while its batch is still waiting drops out of it (its add is not applied); once the batch
/// has been sent, the caller waits for its outcome like everybody else in it.</para>
/// </summary>
/// <param name="send">Adds a delta to the element at (page, offset) in one call and returns the new value's bits.</param>
internal sealed class AddCombiner(Func<long, int, ulong, CancellationToken, Task<ulong>> send)
{
    private readonly Lock _gate = new();
    // An element is present while an add to it is in flight; its value is the batch waiting for that add, if any.
    private readonly Dictionary<(long Page, int Offset), Batch?> _elements = [];

    public async Task<ulong> AddAsync(long page, int offset, ulong delta, CancellationToken cancellation)
    {
        Batch? batch;
        int position;
        lock (_gate)
        {
            if (!_elements.TryGetValue((page, offset), out batch))
            {
                _elements[(page, offset)] = null;
                batch = null;
                position = 0;
            }
            else
            {
                batch ??= _elements[(page, offset)] = new Batch();
                position = batch.Join(delta);
            }
        }
        if (batch is null)
        {
            try
            {
                return await send(page, offset, delta, cancellation);
            }
            finally
            {
                _ = SendWaitingAsync(page, offset);
            }
        }
        return await ResultAsync(batch, position, cancellation);
    }

    private async Task<ulong> ResultAsync(Batch batch, int position, CancellationToken cancellation)
    {
        try
        {
            return batch.ResultOf(position, await batch.Sum.Task.WaitAsync(cancellation));
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            lock (_gate)
            {
                if (!batch.Sent)
                {
                    batch.Withdraw(position);
                    throw;
                }
            }
            // Too late to withdraw: the add is part of a call already made, whose outcome is this caller's too.
            return batch.ResultOf(position, await batch.Sum.Task);
        }
    }

    /// <summary>Sends the batches that gathered behind an add to the element until none is waiting.</summary>
    private async Task SendWaitingAsync(long page, int offset)
    {
        while (true)
        {
            Batch? batch;
            lock (_gate)
            {
                batch = _elements[(page, offset)];
                if (batch is null)
                {
                    _elements.Remove((page, offset));
                    return;
                }
                _elements[(page, offset)] = null;
                batch.Sent = true;
            }
            if (batch.Withdrawn)
            {
                batch.Sum.SetCanceled();
                continue;
            }
            try
            {
                // On behalf of several callers: none of their tokens may cancel the others' adds.
                batch.Sum.SetResult(await send(page, offset, batch.Total, CancellationToken.None));
            }
            catch (Exception error)
            {
                batch.Sum.SetException(error);
            }
        }
    }

    /// <summary>Adds waiting to go out together. Changed under the combiner's lock until sent.</summary>
    private sealed class Batch
    {
        private readonly List<ulong> _deltas = [];

        public TaskCompletionSource<ulong> Sum { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Sent { get; set; }

        public ulong Total { get; private set; }

        /// <summary>Whether every caller has withdrawn, so there is nothing to send.</summary>
        public bool Withdrawn => _deltas.Count == _withdrawn;

        private int _withdrawn;

        public int Join(ulong delta)
        {
            _deltas.Add(delta);
            Total += delta;
            return _deltas.Count - 1;
        }

        public void Withdraw(int position)
        {
            Total -= _deltas[position];
            _deltas[position] = 0;
            _withdrawn++;
        }

        /// <summary>The value the add at <paramref name="position"/> left: the sum less every later add of the batch.</summary>
        public ulong ResultOf(int position, ulong sum)
        {
            for (var later = position + 1; later < _deltas.Count; later++) sum -= _deltas[later];
            return sum;
        }
    }
}
