using System.Diagnostics;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Tenancy;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Security;

/// <summary>The pre-request verdict: what to do, and the findings behind it.</summary>
public sealed record GuardVerdict(PolicyAction Action, IReadOnlyList<Finding> Findings, bool TimedOut)
{
    public static GuardVerdict Allow { get; } = new(PolicyAction.Log, [], false);

    /// <summary>The PII and secrets the guard found in the prompt, when it scanned for them; the capture-time redactor reuses them.</summary>
    public IReadOnlyList<SensitiveMatch>? SensitiveMatches { get; init; }

    /// <summary><c>rules</c> or <c>ensemble</c>: the injection analysis that ran to completion; null when none did.</summary>
    public string? InjectionAnalysis { get; init; }
}

/// <summary>
/// Runs the fast rules on the request before it is forwarded (depth <c>fast</c>): injection and jailbreak rules on the
/// user-controlled text, and the PII/secret detectors. The action is the strongest policy among the findings at or
/// above the minimum severity.
/// </summary>
public sealed class RequestGuard(
    PromptInjectionDetector detector,
    IEnumerable<IInjectionClassifier> classifiers,
    IOptionsMonitor<EnforcementOptions> enforcement,
    IOptionsMonitor<SecurityOptions> security,
    TimeProvider timeProvider)
{
    private readonly IInjectionClassifier? _classifier = classifiers.FirstOrDefault();

    public const string DetectorPrefix = "guard.";
    public const string SensitiveDetector = DetectorPrefix + "sensitive";

    public bool IsActive => enforcement.CurrentValue.IsActive;

    /// <summary>True when the global policies, or the tenant's overrides, would flag or block something for this tenant.</summary>
    public bool IsActiveFor(Tenant? tenant)
        => tenant?.MonitoringScope != MonitoringScope.OutputOnly
            && (enforcement.CurrentValue.IsActive || (tenant is { EnforcementPolicies.Count: > 0 } && tenant.EnforcementPolicies.Values.Any(a => a != PolicyAction.Log)));

    public GuardVerdict Evaluate(string? prompt) => Evaluate(prompt, null);

    /// <summary>The verdict under the global policies, with the tenant's per-type overrides (and its monitoring scope) applied.</summary>
    public GuardVerdict Evaluate(string? prompt, Tenant? tenant)
    {
        var settings = enforcement.CurrentValue;
        if (!IsActiveFor(tenant) || string.IsNullOrEmpty(prompt))
        {
            return GuardVerdict.Allow;
        }

        var policies = settings.Policies;
        if (tenant is { EnforcementPolicies.Count: > 0 })
        {
            policies = new Dictionary<string, PolicyAction>(settings.Policies, StringComparer.OrdinalIgnoreCase);
            foreach (var (type, policy) in tenant.EnforcementPolicies)
            {
                policies[type] = policy;
            }
        }

        var started = timeProvider.GetTimestamp();
        var findings = new List<Finding>();
        var userText = PromptParts.WithoutSystem(prompt);
        var ensemble = settings.Depth == AnalysisDepth.Full && _classifier is not null && !string.IsNullOrWhiteSpace(userText);
        var injection = ensemble
            ? InjectionAnalyzer.Ensemble(new EnsembleDetector(detector, _classifier!, security.CurrentValue.EnsembleMode), userText!, security.CurrentValue.InjectionThreshold, "request")
            : detector.Analyze(userText, "request", security.CurrentValue.InjectionThreshold);
        findings.AddRange(injection.Select(f => f with { Detector = DetectorPrefix + f.Detector }));
        IReadOnlyList<SensitiveMatch>? sensitive = null;
        if (policies.ContainsKey("secret") || policies.ContainsKey("pii"))
        {
            sensitive = SensitiveDataDetector.Detect(prompt);
            foreach (var match in sensitive)
            {
                findings.Add(new Finding
                {
                    Type = match.Category,
                    Severity = match.Category == SensitiveDataDetector.Secret ? FindingSeverity.High : FindingSeverity.Medium,
                    Confidence = 0.99,
                    Location = "request",
                    Detector = SensitiveDetector,
                    Message = match.Kind,
                });
            }
        }

        var timedOut = timeProvider.GetElapsedTime(started) > TimeSpan.FromMilliseconds(settings.TimeBudgetMilliseconds);
        if (timedOut)
        {
            return new GuardVerdict(settings.FailClosed ? PolicyAction.Block : PolicyAction.Log, findings, true) { SensitiveMatches = sensitive };
        }

        var action = findings
            .Where(f => f.Severity >= settings.MinimumSeverity)
            .Select(f => policies.TryGetValue(f.Type, out var policy) ? policy : PolicyAction.Log)
            .DefaultIfEmpty(PolicyAction.Log)
            .Max();
        return new GuardVerdict(action, findings, false) { SensitiveMatches = sensitive, InjectionAnalysis = ensemble ? "ensemble" : "rules" };
    }

    /// <summary><c>type:confidence</c> pairs for the <c>x-llmtrace-findings</c> header.</summary>
    public static string HeaderValue(IEnumerable<Finding> findings)
        => string.Join(',', findings.Select(f => $"{f.Type}:{f.Confidence.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)}").Distinct());
}
