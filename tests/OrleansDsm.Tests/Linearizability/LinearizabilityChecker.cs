namespace OrleansDsm.Tests.Linearizability;

/// <summary>
/// Decides whether a history of operations on one register is linearizable: whether some order of the operations,
/// consistent with their real-time order (an operation that returned before another was called comes first),
/// explains every result. This is the Wing-Gong search with Lowe's memoization: operations are tried in call order,
/// a linearized operation is lifted out of the event list, and a (set of linearized operations, register value)
/// configuration already explored is never explored again. Linearizability is local, so a history over several
/// cells is checked one cell at a time.
/// </summary>
public static class LinearizabilityChecker
{
    /// <summary>The cells whose sub-history is not linearizable; empty when the whole history is.</summary>
    public static IReadOnlyList<int> ViolatingCells(IEnumerable<Operation> history, long initial = 0) =>
        history.GroupBy(operation => operation.Cell)
            .Where(cell => !IsLinearizable(cell.ToList(), initial))
            .Select(cell => cell.Key)
            .Order()
            .ToList();

    /// <summary>Whether the operations, all on one register that starts at <paramref name="initial"/>, are linearizable.</summary>
    public static bool IsLinearizable(IReadOnlyList<Operation> operations, long initial = 0)
    {
        var head = Events.Build(operations);
        var linearized = new Bits(operations.Count);
        var explored = new HashSet<(Bits, long)>();
        var stack = new Stack<(Event Call, long State)>();
        var state = initial;
        var entry = head.Next;
        while (head.Next is not null)
        {
            if (entry!.IsCall)
            {
                var (allowed, next) = RegisterModel.Step(state, entry.Operation);
                if (allowed && explored.Add((linearized.With(entry.Index), next)))
                {
                    stack.Push((entry, state));
                    state = next;
                    linearized = linearized.With(entry.Index);
                    entry.Lift();
                    entry = head.Next;
                    continue;
                }
                entry = entry.Next;
            }
            else
            {
                // A return reached before its call was linearized: undo the latest choice and try the next one.
                if (stack.Count == 0) return false;
                (entry, state) = stack.Pop();
                linearized = linearized.Without(entry.Index);
                entry.Unlift();
                entry = entry.Next;
            }
        }
        return true;
    }

    /// <summary>The call and return events of a history, in time order, as a doubly linked list behind a sentinel.</summary>
    private sealed class Event
    {
        public required Operation Operation { get; init; }
        public required int Index { get; init; }
        public required bool IsCall { get; init; }
        public Event? Match { get; set; }
        public Event? Previous { get; set; }
        public Event? Next { get; set; }

        /// <summary>Removes this call and its return from the list.</summary>
        public void Lift()
        {
            Unlink(this);
            Unlink(Match!);
        }

        /// <summary>Puts this call and its return back where they were.</summary>
        public void Unlift()
        {
            Relink(Match!);
            Relink(this);
        }

        private static void Unlink(Event e)
        {
            e.Previous!.Next = e.Next;
            if (e.Next is not null) e.Next.Previous = e.Previous;
        }

        private static void Relink(Event e)
        {
            e.Previous!.Next = e;
            if (e.Next is not null) e.Next.Previous = e;
        }
    }

    private static class Events
    {
        public static Event Build(IReadOnlyList<Operation> operations)
        {
            var events = new List<(long Time, int Order, Event Event)>();
            for (var i = 0; i < operations.Count; i++)
            {
                var call = new Event { Operation = operations[i], Index = i, IsCall = true };
                var ret = new Event { Operation = operations[i], Index = i, IsCall = false, Match = call };
                call.Match = ret;
                // At equal times calls come first, so operations that touch are treated as concurrent.
                events.Add((operations[i].Called, 0, call));
                events.Add((operations[i].Returned, 1, ret));
            }
            var head = new Event { Operation = null!, Index = -1, IsCall = false };
            var last = head;
            foreach (var (_, _, e) in events.OrderBy(e => e.Time).ThenBy(e => e.Order))
            {
                last.Next = e;
                e.Previous = last;
                last = e;
            }
            return head;
        }
    }

    /// <summary>An immutable bit set with value equality, for the memo of explored configurations.</summary>
    private readonly struct Bits : IEquatable<Bits>
    {
        private readonly ulong[] _words;

        public Bits(int count) => _words = new ulong[(count + 63) / 64];

        private Bits(ulong[] words) => _words = words;

        public Bits With(int index) => Change(index, set: true);

        public Bits Without(int index) => Change(index, set: false);

        private Bits Change(int index, bool set)
        {
            var words = (ulong[])_words.Clone();
            if (set) words[index / 64] |= 1UL << (index % 64);
            else words[index / 64] &= ~(1UL << (index % 64));
            return new Bits(words);
        }

        public bool Equals(Bits other) => _words.AsSpan().SequenceEqual(other._words);

        public override bool Equals(object? obj) => obj is Bits other && Equals(other);

        public override int GetHashCode()
        {
            var hash = new HashCode();
            foreach (var word in _words) hash.Add(word);
            return hash.ToHashCode();
        }
    }
}
