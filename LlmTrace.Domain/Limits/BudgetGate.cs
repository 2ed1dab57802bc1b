using System.Collections.Concurrent;
using LlmTrace.Domain.Budgets;
using LlmTrace.Domain.Tenancy;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Limits;

/// <summary>The outcome of a hard-cap check.</summary>
public sealed record BudgetDecision(bool Allowed, string? AgentId, BudgetWindow? Window, decimal LimitUsd, decimal SpentUsd)
{
    public static BudgetDecision Allow { get; } = new(true, null, null, 0, 0);
}

/// <summary>
/// Hard cost caps per tenant and agent, checked before a call is forwarded. Spend is the ledger's (read through a short
/// cache) plus what this process knows the ledger does not have yet: estimates of calls in flight, and the priced cost
/// of calls that finished but are not yet applied. So a cap stops spend within one call in one process; across
/// processes the ledger cache interval bounds how late another instance's spend is seen.
/// </summary>
public sealed class BudgetGate(ISpendLedger ledger, IOptionsMonitor<BudgetOptions> options, Resilience.Breakers breakers, TimeProvider timeProvider)
{
    /// <summary>The breaker around the ledger reads made while admitting a call.</summary>
    public const string BreakerName = "spend ledger";

    private readonly ConcurrentDictionary<(Guid Tenant, string? Agent), (IReadOnlyList<SpendTotal> Totals, DateTimeOffset Until)> _cache = new();
    private readonly ConcurrentDictionary<Guid, Pending> _pending = new();
    private readonly Lock _admission = new();
    private long _appliedVersion;

    /// <summary>True when the tenant has any hard cap (for itself or its agents); otherwise the gate is skipped.</summary>
    public static bool HasHardCaps(Tenant tenant)
        => tenant.Budgets.Values.Any(b => b.HardUsd is not null) || tenant.AgentBudgets.Values.Any(a => a.Values.Any(b => b.HardUsd is not null));

    /// <summary>Refuses the call when a hard cap is reached; otherwise holds <paramref name="estimateUsd"/> for it until it finishes.</summary>
    public async Task<BudgetDecision> CheckAsync(Tenant tenant, string? agentId, Guid traceId, decimal estimateUsd, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var now = timeProvider.GetUtcNow();
            var version = Interlocked.Read(ref _appliedVersion);
            var tenantTotals = await TotalsAsync(tenant.TenantId, null, now, cancellationToken).ConfigureAwait(false);
            var agentTotals = agentId is null ? [] : await TotalsAsync(tenant.TenantId, agentId, now, cancellationToken).ConfigureAwait(false);
            lock (_admission)
            {
                // If the ledger took over some local holds while it was being read, the reading may have neither: read again.
                if (Interlocked.Read(ref _appliedVersion) != version && attempt < 3)
                {
                    continue;
                }

                // Check and hold under one lock, so concurrent calls in this process cannot all pass on the same reading.
                foreach (var kind in BudgetWindow.Kinds)
                {
                    var window = BudgetWindow.Containing(kind, now);
                    var scopes = agentId is null ? [(null, tenantTotals)] : new[] { ((string?)null, tenantTotals), (agentId, agentTotals) };
                    foreach (var (scopeAgent, totals) in scopes)
                    {
                        if (tenant.BudgetFor(scopeAgent, kind)?.HardUsd is not { } cap)
                        {
                            continue;
                        }

                        var spent = totals.Where(t => t.Kind == kind && t.WindowKey == window.Key).Sum(t => t.CostUsd)
                            + PendingIn(tenant.TenantId, scopeAgent, window);
                        if (spent >= cap)
                        {
                            return new BudgetDecision(false, scopeAgent, window, cap, spent);
                        }
                    }
                }

                // An in-flight hold lasts at most an hour, so a call that never settles cannot hold spend for ever.
                _pending[traceId] = new Pending(tenant.TenantId, agentId, now, estimateUsd, now.AddHours(1));
                return BudgetDecision.Allow;
            }
        }
    }

    /// <summary>The call finished: its priced cost replaces the estimate until the ledger has applied it.</summary>
    public void Complete(Guid traceId, decimal costUsd)
    {
        if (_pending.TryGetValue(traceId, out var pending))
        {
            _pending[traceId] = pending with { AmountUsd = costUsd, Until = timeProvider.GetUtcNow().AddSeconds(options.CurrentValue.PendingSpendSeconds) };
        }
    }

    /// <summary>The call was not forwarded after all (refused later, or failed before any usage): drop its hold.</summary>
    public void Release(Guid traceId) => _pending.TryRemove(traceId, out _);

    /// <summary>The ledger now includes these calls: stop counting them locally and read the ledger afresh.</summary>
    public void Applied(IEnumerable<(Guid TraceId, Guid TenantId)> calls)
    {
        if (_pending.IsEmpty && _cache.IsEmpty)
        {
            return; // No tenant of this process has a hard cap in use.
        }

        foreach (var (traceId, tenantId) in calls)
        {
            // Drop the cached totals before the local hold: in between, the spend is counted twice (refusing early),
            // never zero times. A check reading the ledger meanwhile sees the version move and reads again.
            Interlocked.Increment(ref _appliedVersion);
            foreach (var (key, _) in _cache)
            {
                if (key.Tenant == tenantId)
                {
                    _cache.TryRemove(key, out _);
                }
            }

            lock (_admission)
            {
                Interlocked.Increment(ref _appliedVersion);
                _pending.TryRemove(traceId, out _);
            }
        }
    }

    private decimal PendingIn(Guid tenantId, string? agentId, BudgetWindow window)
    {
        var now = timeProvider.GetUtcNow();
        var sum = 0m;
        foreach (var (id, pending) in _pending)
        {
            if (pending.Until <= now)
            {
                _pending.TryRemove(id, out _);
                continue;
            }

            if (pending.TenantId == tenantId && (agentId is null || pending.AgentId == agentId) && window.Contains(pending.At))
            {
                sum += pending.AmountUsd;
            }
        }

        return sum;
    }

    private async Task<IReadOnlyList<SpendTotal>> TotalsAsync(Guid tenantId, string? agentId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (_cache.TryGetValue((tenantId, agentId), out var entry) && entry.Until > now)
        {
            return entry.Totals;
        }

        var version = Interlocked.Read(ref _appliedVersion);
        IReadOnlyList<SpendTotal> totals;
        try
        {
            // Behind a breaker: a ledger that keeps failing is not waited on by every capped call.
            totals = await breakers.For(BreakerName).ExecuteAsync(
                async token => await ledger.GetTotalsAsync(tenantId, agentId, now, token).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new BudgetUnavailableException(ex);
        }

        // Agent ids are the caller's choice: keep the cache bounded (an expired reading is read again anyway).
        BoundedMap.Trim(_cache, 50_000, cached => cached.Until <= now);

        if (Interlocked.Read(ref _appliedVersion) == version)
        {
            // Not cached when spend was applied during the read: the totals may predate it, and its hold is gone.
            _cache[(tenantId, agentId)] = (totals, now.AddSeconds(options.CurrentValue.SpendCacheSeconds));
        }

        return totals;
    }

    private sealed record Pending(Guid TenantId, string? AgentId, DateTimeOffset At, decimal AmountUsd, DateTimeOffset Until);
}

/// <summary>The spend ledger could not be read (failing, or its breaker open), so a hard cap cannot be checked.</summary>
internal sealed class BudgetUnavailableException(Exception inner) : Exception("The spend ledger could not be read.", inner);
