namespace LlmTrace.Domain.Limits;

/// <summary>What a store granted from a counter, and the counter's use after the grant.</summary>
public readonly record struct RateGrant(long Granted, long Used);

/// <summary>
/// Shared per-minute counters. <see cref="ReserveAsync"/> never takes a counter past its limit, so whatever it grants
/// across every process adds up to at most the limit.
/// </summary>
public interface IRateLimitStore
{
    /// <summary>Takes up to <paramref name="wanted"/> units from <paramref name="counter"/> in
    /// <paramref name="window"/>, never past <paramref name="limit"/>.</summary>
    ValueTask<RateGrant> ReserveAsync(string counter, string window, long limit, long wanted, CancellationToken cancellationToken);
}

/// <summary>Exact counters in process memory (SelfHost, and tests).</summary>
public sealed class InMemoryRateLimitStore : IRateLimitStore
{
    private readonly Lock _gate = new();
    private const int MaxCounters = 100_000;
    private readonly Dictionary<string, (string Window, long Used)> _counters = new(StringComparer.Ordinal);

    public ValueTask<RateGrant> ReserveAsync(string counter, string window, long limit, long wanted, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_counters.Count >= MaxCounters)
            {
                // Counters of earlier minutes are spent; the current minute's are kept.
                foreach (var key in _counters.Where(c => c.Value.Window != window).Select(c => c.Key).ToList())
                {
                    _counters.Remove(key);
                }
            }

            var used = _counters.TryGetValue(counter, out var current) && current.Window == window ? current.Used : 0;
            var granted = Math.Clamp(limit - used, 0, wanted);
            _counters[counter] = (window, used + granted);
            return ValueTask.FromResult(new RateGrant(granted, used + granted));
        }
    }
}
