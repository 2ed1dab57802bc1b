using LlmTrace.Domain.Folding;

namespace LlmTrace.Domain.Budgets;

/// <summary>The ledger in process memory: for tests, and for the Functions host until its Table Storage adapter is configured.</summary>
public sealed class InMemorySpendLedger : InMemoryFoldStore<SpendKey, SpendCounter>, ISpendLedger
{
    public Task<IReadOnlyList<SpendTotal>> GetTotalsAsync(Guid tenantId, string? agentId, DateTimeOffset at, CancellationToken cancellationToken)
        => Task.FromResult(Access<IReadOnlyList<SpendTotal>>((rows, _) => [.. BudgetWindow.AllContaining(at).Select(w =>
            (rows.GetValueOrDefault(new SpendKey(tenantId, agentId, w)) ?? SpendCounter.Empty(w)).ToTotal(agentId))]));

    public Task<IReadOnlyList<(Guid TenantId, SpendTotal Total)>> GetEndedOpenWindowsAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
        => Task.FromResult(Access<IReadOnlyList<(Guid, SpendTotal)>>((rows, _) => [.. rows
            .Where(r => !r.Value.Closed && r.Value.Window.End <= now)
            .OrderBy(r => r.Value.Window.End)
            .Take(max)
            .Select(r => (r.Key.TenantId, r.Value.ToTotal(r.Key.AgentId)))]));

    public Task CloseWindowAsync(Guid tenantId, SpendTotal total, CancellationToken cancellationToken)
        => Task.FromResult(Access((rows, _) =>
        {
            var key = new SpendKey(tenantId, total.AgentId, new BudgetWindow(total.Kind, total.Start, total.End));
            if (rows.TryGetValue(key, out var row))
            {
                rows[key] = row with { Closed = true };
            }

            return key;
        }));
}
