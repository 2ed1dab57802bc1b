using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Budgets;

/// <summary>
/// Default soft budgets that raise alerts, and how hard caps read spend. Bound from <c>LlmTrace:Budgets</c>. A tenant's
/// own budgets (soft and hard, per window and per agent) are tenant settings and take precedence.
/// </summary>
public sealed class BudgetOptions
{
    public const string SectionName = "LlmTrace:Budgets";

    /// <summary>Soft limits per tenant, in US dollars, by window. Unset means no alert for that window.</summary>
    public decimal? HourlyUsd { get; set; }

    public decimal? DailyUsd { get; set; }

    public decimal? WeeklyUsd { get; set; }

    public decimal? MonthlyUsd { get; set; }

    /// <summary>Fractions of a limit at which an alert is raised, once per window.</summary>
    public IList<double> AlertThresholds { get; set; } = [0.8, 1.0];

    /// <summary>How long a process reuses the ledger's totals when checking hard caps (spend from other processes is seen this late).</summary>
    public int SpendCacheSeconds { get; set; } = 5;

    /// <summary>How long a finished call's cost is counted locally while the ledger has not confirmed it (covers the queue's lag).</summary>
    public int PendingSpendSeconds { get; set; } = 60;

    /// <summary>
    /// Calls to a model missing from the pricing catalog, for tenants with a hard cap: <c>Allow</c> them (they count
    /// in tokens but not dollars, and an alert says which model) or <c>Refuse</c> them, so a cap cannot be bypassed.
    /// </summary>
    public UnpricedModelPolicy UnpricedModels { get; set; } = UnpricedModelPolicy.Allow;

    /// <summary>
    /// When a tenant has a hard cap and the spend ledger cannot be read: <c>Refuse</c> (503 <c>budget_unavailable</c>,
    /// the cap is never silently skipped) or <c>Allow</c> (forwarded unchecked, logged).
    /// </summary>
    public UnpricedModelPolicy LedgerUnavailable { get; set; } = UnpricedModelPolicy.Refuse;

    /// <summary>The window-closing timer's NCRONTAB schedule (Functions) / period (SelfHost: every minute).</summary>
    [Required]
    public string TimerSchedule { get; set; } = "0 */5 * * * *";

    public decimal? LimitFor(WindowKind kind) => kind switch
    {
        WindowKind.Hour => HourlyUsd,
        WindowKind.Day => DailyUsd,
        WindowKind.Week => WeeklyUsd,
        _ => MonthlyUsd,
    };
}

public enum UnpricedModelPolicy
{
    Allow,
    Refuse,
}

internal sealed class BudgetOptionsValidator : IValidateOptions<BudgetOptions>
{
    public ValidateOptionsResult Validate(string? name, BudgetOptions options)
    {
        var failures = new List<string>();
        foreach (var kind in BudgetWindow.Kinds)
        {
            if (options.LimitFor(kind) is <= 0)
            {
                failures.Add($"LlmTrace:Budgets: the {kind} limit must be positive.");
            }
        }

        if (options.SpendCacheSeconds is < 0 or > 300 || options.PendingSpendSeconds is < 0 or > 3600)
        {
            failures.Add("LlmTrace:Budgets: SpendCacheSeconds must be 0-300, PendingSpendSeconds 0-3600.");
        }

        if (options.AlertThresholds.Any(t => t is <= 0 or > 10))
        {
            failures.Add("LlmTrace:Budgets:AlertThresholds must be fractions above 0 (1.0 = 100 %).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
