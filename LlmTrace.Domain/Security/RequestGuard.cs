using System.Diagnostics;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Tenancy;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Security;

/// <summary>The pre-request verdict: what to do, and the findings behind it.</summary>
public sealed record GuardVerdict(PolicyAction Action, IReadOnlyList<Finding> Findings, bool TimedOut)
{
    public static GuardVerdict Allow { get; } = new(PolicyAction.Log, [], false);

    /// <summary>
    /// What was analysed: <c>full</c>, <c>tolerant</c> (every string of a body that was not the provider's JSON), or
    /// <c>incomplete:&lt;reason&gt;</c> (<c>time_budget</c>, <c>analyser_fault</c>); null when the guard did not run.
    /// </summary>
    public string? Coverage { get; init; }

    /// <summary>The analysis did not finish, and the policy refuses such calls (fail-closed).</summary>
    public bool Refused => Action == PolicyAction.Block && Coverage?.StartsWith(IncompletePrefix, StringComparison.Ordinal) == true;

    public const string IncompletePrefix = "incomplete:";

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
            && (enforcement.CurrentValue.IsActive
                || (tenant is { EnforcementPolicies.Count: > 0 } && tenant.EnforcementPolicies.Values.Any(a => a != PolicyAction.Log)));

    /// <summary>The verdict on a prompt with no structure: all of it counts as untrusted.</summary>
    public GuardVerdict Evaluate(string? prompt) => Evaluate(prompt, null, null);

    /// <summary>The verdict under the global policies, with the tenant's per-type overrides (and its monitoring scope) applied.</summary>
    /// <param name="segments">Where each piece of the prompt came from; only what users, tools and documents put in is scored for injection.</param>
    /// <param name="coverage">How the prompt was read from the body (<c>full</c> or <c>tolerant</c>), reported back in the verdict.</param>
    public GuardVerdict Evaluate(string? prompt, IReadOnlyList<PromptSegment>? segments, Tenant? tenant, string coverage = "full")
        => Evaluate(prompt, PromptSections.From(prompt, segments), tenant, coverage);

    /// <param name="sections">The prompt's untrusted and trusted text, from its segments (<see cref="PromptSections.From"/>).</param>
    internal GuardVerdict Evaluate(string? prompt, PromptSections sections, Tenant? tenant, string coverage)
    {
        var settings = enforcement.CurrentValue;
        if (!IsActiveFor(tenant))
        {
            return GuardVerdict.Allow;
        }

        if (string.IsNullOrEmpty(prompt))
        {
            return GuardVerdict.Allow with { Coverage = coverage };
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

        var failClosed = settings.FailClosed && policies.Values.Any(a => a == PolicyAction.Block);
        var started = timeProvider.GetTimestamp();
        var findings = new List<Finding>();
        IReadOnlyList<SensitiveMatch>? sensitive = null;
        var ensemble = false;
        try
        {
            var userText = sections.Untrusted;
            ensemble = settings.Depth == AnalysisDepth.Full && _classifier is not null && !string.IsNullOrWhiteSpace(userText);
            var injection = ensemble
                ? InjectionAnalyzer.Ensemble(
                    new EnsembleDetector(detector, _classifier!, security.CurrentValue.EnsembleMode),
                    userText!,
                    security.CurrentValue.InjectionThreshold,
                    "request",
                    sections.HasContent)
                : detector.Analyze(userText, "request", security.CurrentValue.InjectionThreshold, sections.HasContent);
            findings.AddRange(injection.Select(f => sections.Attribute(f, detector) with { Detector = DetectorPrefix + f.Detector }));
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
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // An analyser fault is an analysis that did not finish: the policy decides, never the fault.
            return Incomplete("analyser_fault");
        }

        if (timeProvider.GetElapsedTime(started) > Budget(settings, prompt.Length))
        {
            return Incomplete("time_budget") with { SensitiveMatches = sensitive };
        }

        var action = findings
            .Where(f => f.Severity >= settings.MinimumSeverity)
            .Select(f => policies.TryGetValue(f.Type, out var policy) ? policy : PolicyAction.Log)
            .DefaultIfEmpty(PolicyAction.Log)
            .Max();
        return new GuardVerdict(action, findings, false)
        {
            SensitiveMatches = sensitive,
            InjectionAnalysis = ensemble ? "ensemble" : "rules",
            Coverage = coverage,
        };

        GuardVerdict Incomplete(string reason)
            => new(failClosed ? PolicyAction.Block : PolicyAction.Log, findings, reason == "time_budget") { Coverage = GuardVerdict.IncompletePrefix + reason };
    }

    /// <summary>The time the analysis may take: the base budget, plus a share per MiB so that a long prompt is not refused for its length alone.</summary>
    internal static TimeSpan Budget(EnforcementOptions settings, int promptLength)
        => TimeSpan.FromMilliseconds(settings.TimeBudgetMilliseconds + (settings.TimeBudgetMillisecondsPerMiB * (promptLength / (double)(1024 * 1024))));

    /// <summary><c>type:confidence</c> pairs for the <c>x-llmtrace-findings</c> header.</summary>
    public static string HeaderValue(IEnumerable<Finding> findings)
        => string.Join(',', findings.Select(f => $"{f.Type}:{f.Confidence.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)}").Distinct());
}
