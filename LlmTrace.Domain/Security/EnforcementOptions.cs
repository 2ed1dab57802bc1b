using System.ComponentModel.DataAnnotations;
using LlmTrace.Domain.Capture;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Security;

public enum AnalysisDepth
{
    Fast,
    Full,
}

[System.Text.Json.Serialization.JsonConverter(typeof(WireEnumConverter<PolicyAction>))]
public enum PolicyAction
{
    [System.Text.Json.Serialization.JsonStringEnumMemberName("log")]
    Log = 0,
    [System.Text.Json.Serialization.JsonStringEnumMemberName("flag")]
    Flag = 1,
    [System.Text.Json.Serialization.JsonStringEnumMemberName("block")]
    Block = 2,
}

/// <summary>
/// Pre-request enforcement. Bound from <c>LlmTrace:Security:Enforcement</c>; e.g.
/// <c>LlmTrace__Security__Enforcement__Policies__prompt_injection=Block</c>. Types without a policy are only logged.
/// </summary>
public sealed class EnforcementOptions
{
    public const string SectionName = "LlmTrace:Security:Enforcement";

    /// <summary>Action per finding type (prompt_injection, jailbreak, system_prompt_extraction, indirect_injection, data_exfiltration, secret, pii).</summary>
    public Dictionary<string, PolicyAction> Policies { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary><c>Fast</c>: rules only. <c>Full</c>: rules and the ML classifier (when registered), within the time budget.</summary>
    public AnalysisDepth Depth { get; set; } = AnalysisDepth.Fast;

    /// <summary>Findings below this severity never flag or block.</summary>
    public FindingSeverity MinimumSeverity { get; set; } = FindingSeverity.Medium;

    /// <summary>Longest the analysis of a short prompt may take before it counts as incomplete (see <see cref="FailClosed"/>).</summary>
    [Range(1, 10_000)]
    public int TimeBudgetMilliseconds { get; set; } = 50;

    /// <summary>Added to the budget per MiB of prompt text, so the budget grows with the (linear) cost of the analysis.</summary>
    [Range(0, 10_000)]
    public int TimeBudgetMillisecondsPerMiB { get; set; } = 250;

    /// <summary>
    /// When a policy blocks something, refuse (503 <c>security_analysis_incomplete</c>) a call whose analysis could not
    /// finish (time budget, analyser fault) instead of forwarding it unchecked. On by default; false forwards such calls.
    /// </summary>
    public bool FailClosed { get; set; } = true;

    public bool IsActive => Policies.Count > 0 && Policies.Values.Any(a => a != PolicyAction.Log);
}

[OptionsValidator]
internal sealed partial class EnforcementOptionsValidator : IValidateOptions<EnforcementOptions>;
