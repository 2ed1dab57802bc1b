using LlmTrace.Domain.Folding;

namespace LlmTrace.Domain.Budgets;

/// <summary>One spend row: a scope (the tenant when <paramref name="AgentId"/> is null, or one of its agents) in one window.</summary>
public readonly record struct SpendKey(Guid TenantId, string? AgentId, BudgetWindow Window);

/// <summary>How a call's spend folds into its windows: every window containing it, for the tenant and (when set) the agent.</summary>
internal sealed class SpendFold : IFoldRules<SpendEntry, SpendKey, SpendCounter, SpendApplication>
{
    public static SpendFold Instance { get; } = new();

    private static readonly SpendApplication NotApplied = new(false, []);

    public Guid IdOf(SpendEntry item) => item.TraceId;

    public DateTimeOffset AtOf(SpendEntry item) => item.At;

    public IReadOnlyList<SpendKey> KeysOf(SpendEntry item)
    {
        var windows = BudgetWindow.AllContaining(item.At);
        var keys = new List<SpendKey>(windows.Length * 2);
        foreach (var agent in SpendMath.Scopes(item))
        {
            keys.AddRange(windows.Select(w => new SpendKey(item.TenantId, agent, w)));
        }

        return keys;
    }

    public SpendCounter Empty(SpendKey key) => SpendCounter.Empty(key.Window);

    public SpendApplication Fold(SpendEntry item, FoldRows<SpendKey, SpendCounter> rows)
    {
        var keys = KeysOf(item);
        var changes = new List<(SpendTotal Before, SpendTotal After)>(keys.Count);
        foreach (var key in keys)
        {
            var before = rows[key];
            var after = before.Add(item);
            rows[key] = after;
            changes.Add((before.ToTotal(key.AgentId), after.ToTotal(key.AgentId)));
        }

        return new SpendApplication(true, changes);
    }

    public string? Memo(SpendApplication result) => null;

    public SpendApplication Repeat(SpendEntry item, string? memo) => NotApplied;
}
