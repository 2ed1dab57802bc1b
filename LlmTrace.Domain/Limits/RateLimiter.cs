using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Limits;

/// <summary>One limit to check: a counter (e.g. a tenant's tokens), its per-minute limit, and what this call costs.</summary>
public readonly record struct RateRule(string Counter, RateDimension Dimension, long Limit, long Cost);

public enum RateDimension
{
    Requests,
    Tokens,
}

/// <summary>The outcome of a rate check, with what OpenAI's <c>x-ratelimit-*</c> headers report.</summary>
public sealed record RateDecision(bool Allowed, RateRule? Exceeded, IReadOnlyList<(RateRule Rule, long Remaining)> State, int ResetSeconds, RateLease Lease)
{
    public static RateDecision Unlimited { get; } = new(true, null, [], 0, new RateLease(string.Empty, []));
}

/// <summary>What an admitted call took, so its token estimate can be replaced by real usage afterwards.</summary>
public sealed record RateLease(string Window, IReadOnlyList<RateRule> Rules);

/// <summary>
/// Fixed one-minute UTC windows per counter. Each process holds a small local allowance taken from the shared store
/// (<see cref="RateLimitOptions.LocalAllowanceFraction"/>), so the store is consulted when the allowance runs out, not
/// on every call. Because the store never grants past a limit, admission across all processes never exceeds it.
/// </summary>
public sealed class RateLimiter(IRateLimitStore store, IOptionsMonitor<RateLimitOptions> options, TimeProvider timeProvider)
{
    /// <summary>Counters this process keeps an allowance for; agents are named by clients, so the map is bounded.</summary>
    internal const int MaxPools = 100_000;

    private readonly ConcurrentDictionary<string, Pool> _pools = new(StringComparer.Ordinal);

    internal int PoolCount => _pools.Count;

    public async ValueTask<RateDecision> AcquireAsync(IReadOnlyList<RateRule> rules, CancellationToken cancellationToken)
    {
        if (rules.Count == 0)
        {
            return RateDecision.Unlimited;
        }

        var now = timeProvider.GetUtcNow();
        var window = now.ToString("yyyyMMddHHmm", CultureInfo.InvariantCulture);
        var reset = 60 - now.Second;
        var state = new List<(RateRule, long)>(rules.Count);
        var taken = new List<RateRule>(rules.Count);
        foreach (var rule in rules)
        {
            // A pool from an earlier minute holds nothing usable. Dropping a live one only gives up its local allowance,
            // which the store has already counted as used: the limit gets stricter for the minute, never looser.
            var pool = BoundedMap.GetOrAdd(_pools, rule.Counter, _ => new Pool(), MaxPools, idle => idle.IsIdle(window));
            var (ok, remaining) = await TakeAsync(pool, rule, window, cancellationToken).ConfigureAwait(false);
            state.Add((rule, remaining));
            if (!ok)
            {
                foreach (var done in taken)
                {
                    _pools[done.Counter].Return(window, done.Cost);
                }

                return new RateDecision(false, rule, state, reset, new RateLease(window, []));
            }

            taken.Add(rule);
        }

        return new RateDecision(true, null, state, reset, new RateLease(window, taken));
    }

    /// <summary>Replaces the token estimate with real usage: a shortfall is charged to this process's allowance, a surplus returned to it.</summary>
    public void Reconcile(RateLease lease, long actualTokens)
    {
        foreach (var rule in lease.Rules)
        {
            if (rule.Dimension == RateDimension.Tokens && _pools.TryGetValue(rule.Counter, out var pool))
            {
                pool.Return(lease.Window, rule.Cost - actualTokens);
            }
        }
    }

    private async ValueTask<(bool Ok, long Remaining)> TakeAsync(Pool pool, RateRule rule, string window, CancellationToken cancellationToken)
    {
        if (pool.TryTake(window, rule.Cost, out var remainingLocal))
        {
            return (true, Math.Max(0, rule.Limit - pool.StoreUsed + remainingLocal));
        }

        var allowance = (long)Math.Ceiling(rule.Limit * (options.CurrentValue.LocalAllowanceFraction ?? 0));
        // A debt from calls that used more than estimated is paid back before this call is admitted.
        var wanted = Math.Max(rule.Cost - pool.Available(window), allowance);
        var grant = await store.ReserveAsync(rule.Counter, window, rule.Limit, wanted, cancellationToken).ConfigureAwait(false);
        pool.Add(window, grant);
        var ok = pool.TryTake(window, rule.Cost, out remainingLocal);
        return (ok, Math.Max(0, rule.Limit - grant.Used + remainingLocal));
    }

    /// <summary>Units this process has taken from the store for one counter in the current window and not yet used.</summary>
    private sealed class Pool
    {
        private readonly Lock _gate = new();
        private string _window = string.Empty;
        private long _available;

        public long StoreUsed { get; private set; }

        /// <summary>From an earlier minute and owing nothing to the current one.</summary>
        public bool IsIdle(string window)
        {
            lock (_gate)
            {
                return _window != window && _available >= 0;
            }
        }

        public long Available(string window)
        {
            lock (_gate)
            {
                return _window == window ? _available : 0;
            }
        }

        public bool TryTake(string window, long cost, out long remaining)
        {
            lock (_gate)
            {
                Roll(window);
                if (_available >= cost)
                {
                    _available -= cost;
                    remaining = _available;
                    return true;
                }

                remaining = Math.Max(0, _available);
                return false;
            }
        }

        public void Add(string window, RateGrant grant)
        {
            lock (_gate)
            {
                Roll(window);
                _available += grant.Granted;
                StoreUsed = grant.Used;
            }
        }

        public void Return(string window, long units)
        {
            lock (_gate)
            {
                // A surplus only counts in its own minute; an overage found after the minute ended (a long stream)
                // is charged to the current one, not forgotten.
                if (_window == window || (units < 0 && string.CompareOrdinal(_window, window) > 0))
                {
                    _available += units;
                }
            }
        }

        private void Roll(string window)
        {
            if (_window != window)
            {
                _window = window;
                _available = 0;
                StoreUsed = 0;
            }
        }
    }
}
