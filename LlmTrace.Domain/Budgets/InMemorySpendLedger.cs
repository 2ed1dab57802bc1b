namespace LlmTrace.Domain.Budgets;

/// <summary>The ledger in process memory: for tests, and for the Functions host until its Table Storage adapter is configured.</summary>
public sealed class InMemorySpendLedger : ISpendLedger
{
    private readonly Lock _gate = new();
    private readonly HashSet<Guid> _applied = [];
    private readonly Dictionary<(Guid Tenant, string? Agent, string Key), SpendCounter> _rows = [];

    public Task<IReadOnlyList<SpendApplication>> ApplyAsync(IReadOnlyList<SpendEntry> entries, CancellationToken cancellationToken)
    {
        var results = new List<SpendApplication>(entries.Count);
        lock (_gate)
        {
            foreach (var entry in entries)
            {
                if (!_applied.Add(entry.TraceId))
                {
                    results.Add(new SpendApplication(false, []));
                    continue;
                }

                var changes = new List<(SpendTotal, SpendTotal)>();
                foreach (var agent in SpendMath.Scopes(entry))
                {
                    foreach (var window in BudgetWindow.AllContaining(entry.At))
                    {
                        var key = (entry.TenantId, agent, window.Key);
                        var row = _rows.GetValueOrDefault(key) ?? SpendCounter.Empty(window);
                        var next = row.Add(entry);
                        _rows[key] = next;
                        changes.Add((row.ToTotal(agent), next.ToTotal(agent)));
                    }
                }

                results.Add(new SpendApplication(true, changes));
            }
        }

        return Task.FromResult<IReadOnlyList<SpendApplication>>(results);
    }

    public Task<IReadOnlyList<SpendTotal>> GetTotalsAsync(Guid tenantId, string? agentId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            IReadOnlyList<SpendTotal> totals = [.. BudgetWindow.AllContaining(at).Select(w =>
                (_rows.GetValueOrDefault((tenantId, agentId, w.Key)) ?? SpendCounter.Empty(w)).ToTotal(agentId))];
            return Task.FromResult(totals);
        }
    }

    public Task<IReadOnlyList<(Guid TenantId, SpendTotal Total)>> GetEndedOpenWindowsAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            IReadOnlyList<(Guid, SpendTotal)> ended = [.. _rows
                .Where(r => !r.Value.Closed && r.Value.Window.End <= now)
                .OrderBy(r => r.Value.Window.End)
                .Take(max)
                .Select(r => (r.Key.Tenant, r.Value.ToTotal(r.Key.Agent)))];
            return Task.FromResult(ended);
        }
    }

    public Task CloseWindowAsync(Guid tenantId, SpendTotal total, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var key = (tenantId, total.AgentId, total.WindowKey);
            if (_rows.TryGetValue(key, out var row))
            {
                _rows[key] = row with { Closed = true };
            }
        }

        return Task.CompletedTask;
    }
}
