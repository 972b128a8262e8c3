namespace OrleansDsm.Tests.Fuzzing;

/// <summary>
/// One random sequence of calls on its own client and its own region names, checked against <see cref="ShadowRegion"/>s:
/// each call must succeed when the shadow says it can and otherwise fail with the exception its XML docs name; a
/// call that fails must leave the elements it aimed at as the shadow holds them; every value read must be the shadow's.
/// </summary>
internal sealed class FuzzRun(DsmClient client, string prefix) : IAsyncDisposable
{
    private const int PoolNames = 4;
    private const int LongestRange = 600;
    private static readonly string[] BadNames = ["", "two words", "slash/name", "-leading", new string('n', 129), "ünicode"];

    private readonly Dictionary<string, ShadowRegion> _live = [];
    private readonly List<IFuzzHandle> _handles = [];
    private readonly List<ShadowRegion> _seen = [];
    // What ran, for the message of a failure: CsCheck's shrunk sequence says which steps, this says what they did.
    private readonly List<string> _history = [];

    /// <summary>How many calls were checked, the halves of a concurrent pair counted apart.</summary>
    public int Calls { get; private set; }

    /// <summary>
    /// Makes the call <paramref name="step"/> names. Its <see cref="FuzzStep.Call"/> (0-99) weighs the calls: a free
    /// waits out the region lease, so frees are few, and element and range calls many.
    /// </summary>
    public Task ApplyAsync(FuzzStep step) => step.Call switch
    {
        < 8 => AllocateAsync(step),
        < 13 => OpenAsync(step),
        < 16 => FreeAsync(step),
        < 17 => FreeDuringWriteAsync(step),
        < 31 => OnHandleAsync(step, SetAsync),
        < 45 => OnHandleAsync(step, GetAsync),
        < 55 => OnHandleAsync(step, AddAsync),
        < 65 => OnHandleAsync(step, CompareExchangeAsync),
        < 78 => OnHandleAsync(step, WriteAsync),
        < 92 => OnHandleAsync(step, ReadAsync),
        _ => ReleaseAsync(),
    };

    /// <summary>Reads back what every live region holds where the run wrote, and compares it with its shadow.</summary>
    public async Task VerifyLiveRegionsAsync()
    {
        foreach (var handle in _handles.Where(h => !h.Shadow.Freed).GroupBy(h => h.Shadow).Select(g => g.First()))
        {
            await VerifyAsync(handle, 0, Math.Min(handle.Shadow.Length, 5_100));
            await VerifyAsync(handle, handle.Shadow.Length - 100, 100);
        }
    }

    /// <summary>Frees what this run allocated and still lives, so the cluster's quota is left as it was.</summary>
    public async ValueTask DisposeAsync()
    {
        await ReleaseAsync();
        await Task.WhenAll(_live.Keys.Select(name => client.FreeAsync(name)));
        await client.DisposeAsync();
    }

    private async Task AllocateAsync(FuzzStep step)
    {
        var name = Name(step.Pick);
        var kind = ElementKind.All[step.Extra % ElementKind.All.Length];
        var (length, tooLarge, large) = Length(kind, step.Where);
        var consistency = step.Bits % 5 < 2 ? Consistency.Release : Consistency.Strict;
        var shadow = new ShadowRegion(name, kind, length, consistency);
        IFuzzHandle? handle = null;
        var done = await OutcomeAsync($"allocate {kind} '{name}' x {length}, {(shadow.Buffers ? "Release" : "Strict")}", async () => handle = await kind.AllocateAsync(client, shadow),
            Errors(
                (!IsValidName(name), typeof(ArgumentException)),
                (length <= 0 || tooLarge, typeof(ArgumentOutOfRangeException)),
                (tooLarge || large, typeof(QuotaExceededException)),
                (_live.ContainsKey(name), typeof(RegionExistsException))),
            successAllowed: IsValidName(name) && length > 0 && !tooLarge && !_live.ContainsKey(name));
        if (!done) return;
        _history[^1] += $" as {handle!.Label}";
        _live[name] = shadow;
        _seen.Add(shadow);
        _handles.Add(handle!);
    }

    private async Task OpenAsync(FuzzStep step)
    {
        var name = Name(step.Pick);
        var kind = ElementKind.All[step.Extra % ElementKind.All.Length];
        var shadow = _live.GetValueOrDefault(name);
        IFuzzHandle? handle = null;
        var done = await OutcomeAsync($"open '{name}' as {kind}", async () => handle = await kind.OpenAsync(client, name, shadow),
            Errors(
                (!IsValidName(name), typeof(ArgumentException)),
                (IsValidName(name) && shadow is null, typeof(RegionNotFoundException)),
                (shadow is not null && shadow.Kind != kind, typeof(RegionMismatchException))),
            successAllowed: shadow is not null && shadow.Kind == kind);
        if (!done) return;
        _history[^1] += $" as {handle!.Label}";
        _handles.Add(handle);
    }

    private async Task FreeAsync(FuzzStep step)
    {
        var name = Name(step.Pick);
        var shadow = _live.GetValueOrDefault(name);
        var done = await OutcomeAsync($"free '{name}'", () => client.FreeAsync(name),
            Errors((!IsValidName(name), typeof(ArgumentException)), (IsValidName(name) && shadow is null, typeof(RegionNotFoundException))),
            successAllowed: shadow is not null);
        if (done) Forget(shadow!);
    }

    private async Task SetAsync(IFuzzHandle handle, FuzzStep step)
    {
        var shadow = handle.Shadow;
        var index = Index(shadow, step.Where);
        var bits = shadow.Kind.Mask(step.Bits);
        var valid = shadow.Contains(index, 1);
        if (await OutcomeAsync($"set {handle.Label}[{index}]", () => handle.SetAsync(index, bits), ElementErrors(shadow, valid), successAllowed: valid && (!shadow.Freed || shadow.Buffers)))
        {
            shadow[index] = bits;
            shadow.Unreleased |= shadow.Buffers;
        }
        else await VerifyAsync(handle, index - 2, 5);
    }

    private async Task GetAsync(IFuzzHandle handle, FuzzStep step)
    {
        var shadow = handle.Shadow;
        var index = Index(shadow, step.Where);
        var valid = shadow.Contains(index, 1);
        ulong read = 0;
        if (await OutcomeAsync($"get {handle.Label}[{index}]", async () => read = await handle.GetAsync(index), ElementErrors(shadow, valid), successAllowed: valid && (!shadow.Freed || shadow.Buffers)))
            Check(shadow[index] == read, $"{shadow.Name}[{index}] read {read:x}, the shadow holds {shadow[index]:x}");
    }

    private async Task AddAsync(IFuzzHandle handle, FuzzStep step)
    {
        var shadow = handle.Shadow;
        var index = Index(shadow, step.Where);
        var delta = shadow.Kind.Mask(step.Bits);
        var addable = shadow.Kind.Add is not null;
        var valid = shadow.Contains(index, 1);
        ulong sum = 0;
        var errors = addable ? ElementErrors(shadow, valid) : [typeof(NotSupportedException)];
        if (await OutcomeAsync($"add to {handle.Label}[{index}]", async () => sum = await handle.AddAsync(index, delta), errors, successAllowed: addable && valid && !shadow.Freed))
        {
            shadow[index] = shadow.Kind.Add!(shadow[index], delta);
            Check(shadow[index] == sum, $"add to {handle.Label}[{index}] returned {sum:x}, the shadow holds {shadow[index]:x}");
        }
        else await VerifyAsync(handle, index - 2, 5);
    }

    private async Task CompareExchangeAsync(IFuzzHandle handle, FuzzStep step)
    {
        var shadow = handle.Shadow;
        var index = Index(shadow, step.Where);
        var value = shadow.Kind.Mask(step.Bits);
        var valid = shadow.Contains(index, 1);
        // Half the time the comparand is the element's value, so the exchange happens.
        var comparand = step.Extra % 2 == 0 && valid ? shadow[index] : shadow.Kind.Mask((ulong)step.Extra);
        ulong original = 0;
        if (await OutcomeAsync($"compare-exchange {handle.Label}[{index}]", async () => original = await handle.CompareExchangeAsync(index, value, comparand),
                ElementErrors(shadow, valid), successAllowed: valid && !shadow.Freed))
        {
            Check(shadow[index] == original, $"compare-exchange of {shadow.Name}[{index}] found {original:x}, the shadow holds {shadow[index]:x}");
            if (original == comparand) shadow[index] = value;
        }
        else await VerifyAsync(handle, index - 2, 5);
    }

    private async Task WriteAsync(IFuzzHandle handle, FuzzStep step)
    {
        var shadow = handle.Shadow;
        var (start, count) = Range(shadow, step);
        var random = new Random((int)step.Bits);
        var values = Enumerable.Range(0, count).Select(_ => shadow.Kind.Mask((ulong)random.NextInt64())).ToArray();
        var valid = shadow.Contains(start, count);
        if (await OutcomeAsync($"write {handle.Label}[{start}..+{count}]", () => handle.WriteAsync(start, values), RangeErrors(shadow, valid, count), successAllowed: valid && (!shadow.Freed || shadow.Buffers || count == 0)))
        {
            for (var i = 0; i < count; i++) shadow[start + i] = values[i];
            shadow.Unreleased |= shadow.Buffers && count > 0;
        }
        else await VerifyAsync(handle, start, count);
    }

    private async Task ReadAsync(IFuzzHandle handle, FuzzStep step)
    {
        var shadow = handle.Shadow;
        var (start, count) = Range(shadow, step);
        var valid = shadow.Contains(start, count);
        ulong[] read = [];
        if (await OutcomeAsync($"read {handle.Label}[{start}..+{count}]", async () => read = await handle.ReadAsync(start, count), RangeErrors(shadow, valid, count),
                successAllowed: valid && (!shadow.Freed || count == 0)))
            for (var i = 0; i < count; i++)
                Check(shadow[start + i] == read[i], $"{shadow.Name}[{start + i}] read {read[i]:x}, the shadow holds {shadow[start + i]:x}");
    }

    /// <summary>Makes a call on one of the run's handles, chosen by the step; with none yet, allocates instead.</summary>
    private Task OnHandleAsync(FuzzStep step, Func<IFuzzHandle, FuzzStep, Task> call) =>
        Handle(step) is { } handle ? call(handle, step) : AllocateAsync(step);

    /// <summary>A range write and a free of its region at once: the write lands or is refused as freed; the free succeeds.</summary>
    private async Task FreeDuringWriteAsync(FuzzStep step)
    {
        if (Handle(step) is not { } handle || handle.Shadow.Freed)
        {
            await AllocateAsync(step);
            return;
        }
        var shadow = handle.Shadow;
        var start = Math.Max(0, Index(shadow, step.Where) % shadow.Length);
        var count = (int)Math.Min(1 + step.Extra % LongestRange, shadow.Length - start);
        var values = new ulong[count].Select(_ => shadow.Kind.Mask(step.Bits)).ToArray();
        var write = OutcomeAsync($"write {handle.Label}[{start}..+{count}] during its free", () => handle.WriteAsync(start, values),
            [typeof(RegionFreedException)], successAllowed: true);
        var free = OutcomeAsync($"free '{shadow.Name}' during a write", () => client.FreeAsync(shadow.Name), [], successAllowed: true);
        await Task.WhenAll(write, free);
        // A Release region's write is buffered whether or not the free came first, and its handle reads it back.
        if (shadow.Buffers && await write)
        {
            for (var i = 0; i < count; i++) shadow[start + i] = values[i];
            shadow.Unreleased = true;
        }
        Forget(shadow);
    }

    /// <summary>
    /// Sends this client's unreleased writes. Those to a freed region can never apply: the release then fails with
    /// <see cref="RegionFreedException"/> and drops them, having sent the others.
    /// </summary>
    private async Task ReleaseAsync()
    {
        var refusable = _seen.Any(shadow => shadow.Freed && shadow.Unreleased);
        await OutcomeAsync("release", () => client.ReleaseAsync(), Errors((refusable, typeof(RegionFreedException))), successAllowed: true);
        foreach (var shadow in _seen) shadow.Unreleased = false;
    }

    private void Forget(ShadowRegion shadow)
    {
        shadow.Freed = true;
        _live.Remove(shadow.Name);
    }

    private async Task VerifyAsync(IFuzzHandle handle, long start, long count)
    {
        var shadow = handle.Shadow;
        if (shadow.Freed) return;
        start = Math.Clamp(start, 0, shadow.Length);
        count = Math.Min(count, shadow.Length - start);
        if (count <= 0) return;
        var read = await handle.ReadAsync(start, (int)count);
        for (var i = 0; i < count; i++)
            Check(shadow[start + i] == read[i], $"{shadow.Name}[{start + i}] holds {read[i]:x} after the calls so far; the shadow holds {shadow[start + i]:x}");
    }

    /// <summary>Runs <paramref name="call"/> and says whether it succeeded; fails the test if the outcome was not one allowed.</summary>
    private async Task<bool> OutcomeAsync(string what, Func<Task> call, Type[] errors, bool successAllowed)
    {
        Calls++;
        try
        {
            await call();
        }
        catch (Exception error) when (errors.Any(allowed => allowed.IsInstanceOfType(error)))
        {
            _history.Add($"{what}: {error.GetType().Name}");
            Check(!string.IsNullOrWhiteSpace(error.Message), $"{what}: {error.GetType().Name} without a message");
            return false;
        }
        catch (Exception error)
        {
            Check(false, $"{what}: {error.GetType().Name} ({error.Message}), where {Expected(errors, successAllowed)} was expected");
        }
        _history.Add($"{what}: done");
        Check(successAllowed, $"{what} succeeded, where {Expected(errors, successAllowed)} was expected");
        return true;
    }

    private void Check(bool holds, string failure)
    {
        if (!holds) Assert.Fail($"{failure}\nthe calls before it:\n  {string.Join("\n  ", _history.TakeLast(60))}");
    }

    private static string Expected(Type[] errors, bool successAllowed) =>
        string.Join(" or ", errors.Select(error => error.Name).Prepend(successAllowed ? "success" : null).OfType<string>());

    private static Type[] Errors(params (bool When, Type Error)[] candidates) =>
        candidates.Where(candidate => candidate.When).Select(candidate => candidate.Error).ToArray();

    private static Type[] ElementErrors(ShadowRegion shadow, bool valid) =>
        Errors((!valid, typeof(ArgumentOutOfRangeException)), (valid && shadow.Freed, typeof(RegionFreedException)));

    // An empty range of a freed region touches no page: it may pass or be refused.
    private static Type[] RangeErrors(ShadowRegion shadow, bool valid, int count) =>
        Errors((!valid, typeof(ArgumentOutOfRangeException)), (valid && shadow.Freed, typeof(RegionFreedException)));

    private IFuzzHandle? Handle(FuzzStep step) => _handles.Count == 0 ? null : _handles[step.Pick % _handles.Count];

    private string Name(int pick) => pick % 10 == 0 ? BadNames[pick / 10 % BadNames.Length] : $"{prefix}-{pick % PoolNames}";

    private static bool IsValidName(string name) => !BadNames.Contains(name);

    /// <summary>
    /// A length: mostly up to a few pages, sometimes a million elements, sometimes 16 GiB (sparse; the quota may refuse
    /// it when other tests hold much), sometimes zero, negative, past the quota or past what 64 bits can address.
    /// </summary>
    private static (long Length, bool TooLarge, bool Large) Length(ElementKind kind, long where)
    {
        var n = (long)((ulong)where / 16);
        return ((ulong)where % 16) switch
        {
            0 => (0, false, false),
            1 => (-1 - n % 1000, false, false),
            2 => (n % 2 == 0 ? long.MaxValue : (8L << 40) / kind.Size, true, false),
            3 => ((16L << 30) / kind.Size, false, true),
            4 => (1 + n % (1 << 20), false, false),
            _ => (1 + n % 3000, false, false),
        };
    }

    /// <summary>An index: mostly near the start (so calls meet), sometimes at the end, below zero, past the end or extreme.</summary>
    private static long Index(ShadowRegion shadow, long where)
    {
        var n = (long)((ulong)where / 10);
        return ((ulong)where % 10) switch
        {
            0 => -1 - n % 3,
            1 => shadow.Length + n % 3,
            2 => n % 2 == 0 ? long.MaxValue : long.MinValue,
            3 => shadow.Length - 1 - n % Math.Min(shadow.Length, 100),
            _ => n % Math.Min(shadow.Length, 5_000),
        };
    }

    private static (long Start, int Count) Range(ShadowRegion shadow, FuzzStep step) => (Index(shadow, step.Where), step.Extra % LongestRange);
}
