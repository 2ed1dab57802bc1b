using LlmTrace.Domain.Capture;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Security;

/// <summary>
/// Injection and jailbreak detection over the request's user-controlled text: the fast rules, combined with the ML
/// classifier when one is registered (see <see cref="EnsembleDetector"/>).
/// </summary>
internal sealed class InjectionAnalyzer(
    PromptInjectionDetector detector, IEnumerable<IInjectionClassifier> classifiers, IOptionsMonitor<SecurityOptions> options) : ISecurityAnalyzer
{
    private readonly IInjectionClassifier? _classifier = classifiers.FirstOrDefault();

    public string Name => _classifier is null ? PromptInjectionDetector.DetectorName : "ensemble.injection";

    public IEnumerable<Finding> Analyze(Trace trace)
    {
        var settings = options.CurrentValue;
        if (trace.GuardAnalysis == (_classifier is null ? "rules" : "ensemble"))
        {
            // The guard ran this same analysis on this same text before forwarding: reuse its verdict.
            return trace.Findings
                .Where(f => f.Detector.StartsWith(RequestGuard.DetectorPrefix, StringComparison.Ordinal) && f.Detector != RequestGuard.SensitiveDetector)
                .Select(f => f with { Detector = f.Detector[RequestGuard.DetectorPrefix.Length..] })
                .ToList();
        }

        var sections = PromptSections.From(trace.Prompt, trace.Segments);
        var text = sections.Untrusted;
        var findings = _classifier is null || string.IsNullOrWhiteSpace(text)
            ? detector.Analyze(text, "request", settings.InjectionThreshold, sections.HasContent)
            : Ensemble(new EnsembleDetector(detector, _classifier, settings.EnsembleMode), text, settings.InjectionThreshold, "request", sections.HasContent);
        return findings.Select(f => sections.Attribute(f, detector)).ToList();
    }

    /// <summary>One finding from the ensemble verdict, or none.</summary>
    internal static IEnumerable<Finding> Ensemble(EnsembleDetector ensemble, string text, double threshold, string location, bool content = false)
    {
        var verdict = ensemble.Evaluate(text, threshold, content);
        if (!verdict.Flagged)
        {
            return [];
        }

        var confidence = Math.Max(verdict.RulesScore, verdict.ModelScore ?? 0);
        return
        [
            new Finding
            {
                Type = verdict.Type ?? InjectionRules.Injection,
                Severity = confidence >= 0.9 ? FindingSeverity.High : FindingSeverity.Medium,
                Confidence = Math.Round(confidence, 3),
                Location = location,
                Detector = "ensemble.injection",
                Message = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"rules {verdict.RulesScore:0.00}, model {verdict.ModelScore:0.00}"),
            },
        ];
    }
}

