using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Budgets;

/// <summary>Soft budgets that raise alerts. Bound from <c>LlmTrace:Budgets</c>. Per-tenant budgets and hard caps come with tenants.</summary>
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

        if (options.AlertThresholds.Any(t => t is <= 0 or > 10))
        {
            failures.Add("LlmTrace:Budgets:AlertThresholds must be fractions above 0 (1.0 = 100 %).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
