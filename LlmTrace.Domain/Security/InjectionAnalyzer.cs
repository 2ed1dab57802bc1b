using LlmTrace.Domain.Capture;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Security;

/// <summary>
/// Injection and jailbreak detection over the request's user-controlled text: the fast rules, combined with the ML
/// classifier when one is registered (see <see cref="EnsembleDetector"/>).
/// </summary>
public sealed class InjectionAnalyzer(PromptInjectionDetector detector, IEnumerable<IInjectionClassifier> classifiers, IOptionsMonitor<SecurityOptions> options) : ISecurityAnalyzer
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

        var text = PromptParts.WithoutSystem(trace.Prompt);
        if (_classifier is null || string.IsNullOrWhiteSpace(text))
        {
            return detector.Analyze(text, "request", settings.InjectionThreshold);
        }

        return Ensemble(new EnsembleDetector(detector, _classifier, settings.EnsembleMode), text, settings.InjectionThreshold, "request");
    }

    /// <summary>One finding from the ensemble verdict, or none.</summary>
    internal static IEnumerable<Finding> Ensemble(EnsembleDetector ensemble, string text, double threshold, string location)
    {
        var verdict = ensemble.Evaluate(text, threshold);
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

/// <summary>Splits the role-prefixed prompt text the capture builds (<c>role: text</c> blocks).</summary>
public static class PromptParts
{
    private static readonly string[] Roles = ["system", "user", "assistant", "tool", "developer", "function", "model", "prompt", "input"];

    /// <summary>The system (and developer) messages' text.</summary>
    public static string? System(string? prompt) => Join(prompt, role => role is "system" or "developer");

    /// <summary>Everything but the system messages: what a user, a tool or a document put into the conversation.</summary>
    public static string? WithoutSystem(string? prompt) => Join(prompt, role => role is not ("system" or "developer"));

    private static string? Join(string? prompt, Func<string, bool> keep)
    {
        if (string.IsNullOrEmpty(prompt))
        {
            return prompt;
        }

        var parts = new List<string>();
        string? role = null;
        var current = new System.Text.StringBuilder();
        foreach (var line in prompt.Split('\n'))
        {
            var colon = line.IndexOf(": ", StringComparison.Ordinal);
            var candidate = colon > 0 ? line[..colon] : null;
            if (candidate is not null && Roles.Contains(candidate))
            {
                Flush();
                role = candidate;
                current.Append(line[(colon + 2)..]);
                continue;
            }

            if (current.Length > 0)
            {
                current.Append('\n');
            }

            current.Append(line);
        }

        Flush();
        return parts.Count == 0 ? null : string.Join("\n", parts);

        void Flush()
        {
            if (role is not null && keep(role) && current.Length > 0)
            {
                parts.Add(current.ToString());
            }

            current.Clear();
        }
    }
}
