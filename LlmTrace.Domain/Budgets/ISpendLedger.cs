using LlmTrace.Domain.Folding;

namespace LlmTrace.Domain.Budgets;

/// <summary>One call's spend, applied to every window of its tenant and (when set) its agent.</summary>
public sealed record SpendEntry(Guid TraceId, Guid TenantId, string? AgentId, DateTimeOffset At, decimal CostUsd, long Tokens);

/// <summary>Running totals of one scope (a tenant, or a tenant's agent) in one window.</summary>
public sealed record SpendTotal(
    WindowKind Kind, string WindowKey, DateTimeOffset Start, DateTimeOffset End, string? AgentId, decimal CostUsd, long Tokens, long Requests);

/// <summary>The outcome of applying an entry: the totals before and after, per scope and window.</summary>
internal sealed record SpendApplication(bool Applied, IReadOnlyList<(SpendTotal Before, SpendTotal After)> Changes);

/// <summary>
/// Per-tenant and per-agent spend in hourly, daily, weekly and monthly UTC windows. Entries are applied by
/// <see cref="SpendLedgerExtensions.ApplyAsync"/> (<see cref="SpendFold"/> over this store), idempotent by trace id:
/// the same entry applied twice counts once.
/// </summary>
public interface ISpendLedger : IFoldStore<SpendKey, SpendCounter>
{
    /// <summary>The totals of the windows that contain <paramref name="at"/>, for the tenant (agent null) or one agent.</summary>
    Task<IReadOnlyList<SpendTotal>> GetTotalsAsync(Guid tenantId, string? agentId, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Windows that ended before <paramref name="now"/> and are not yet closed, oldest first.</summary>
    Task<IReadOnlyList<(Guid TenantId, SpendTotal Total)>> GetEndedOpenWindowsAsync(DateTimeOffset now, int max, CancellationToken cancellationToken);

    /// <summary>Marks a window closed (its summary written); closing twice is harmless.</summary>
    Task CloseWindowAsync(Guid tenantId, SpendTotal total, CancellationToken cancellationToken);
}

/// <summary>Applying spend: the one exactly-once algorithm with the spend rules, over any ledger.</summary>
internal static class SpendLedgerExtensions
{
    /// <summary>Applies each entry once; the result at index i is for entry i (Applied is false for one seen before).</summary>
    public static Task<IReadOnlyList<SpendApplication>> ApplyAsync(
        this ISpendLedger ledger, IReadOnlyList<SpendEntry> entries, TimeProvider timeProvider, CancellationToken cancellationToken)
        => ExactlyOnceFold.ApplyAsync(entries, SpendFold.Instance, ledger, timeProvider, cancellationToken);
}
