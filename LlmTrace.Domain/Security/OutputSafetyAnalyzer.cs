using System.Globalization;
using LlmTrace.Domain.Capture;

namespace LlmTrace.Domain.Security;

/// <summary>
/// Output checks: toxic content in the response (<see cref="ToxicityDetector"/>), and a response that reproduces a
/// large part of the request's system prompt (system-prompt leak), measured as the share of the system prompt's word
/// 5-grams that appear in the response. PII and secrets in responses are found at capture (<see cref="CaptureRedactor"/>).
/// </summary>
internal sealed class OutputSafetyAnalyzer : ISecurityAnalyzer
{
    private const int ShingleSize = 5;
    private const int MinimumWords = 12;
    private const double LeakShare = 0.5;

    public string Name => "rules.output";

    public IEnumerable<Finding> Analyze(Trace trace)
    {
        foreach (var finding in Toxicity(trace.Response, Name))
        {
            yield return finding;
        }

        var system = PromptSections.From(trace.Prompt, trace.Segments).Trusted;
        if (system is null || string.IsNullOrEmpty(trace.Response))
        {
            yield break;
        }

        var systemShingles = Shingles(system);
        if (systemShingles.Count == 0)
        {
            yield break;
        }

        var responseShingles = Shingles(trace.Response);
        var share = systemShingles.Count(responseShingles.Contains) / (double)systemShingles.Count;
        if (share >= LeakShare)
        {
            yield return new Finding
            {
                Type = "system_prompt_leak",
                Severity = share >= 0.8 ? FindingSeverity.High : FindingSeverity.Medium,
                Confidence = Math.Round(share, 3),
                Location = "response",
                Detector = Name,
                Message = string.Create(CultureInfo.InvariantCulture, $"the response reproduces {share:P0} of the system prompt"),
            };
        }
    }

    /// <summary>One finding per toxicity category found in a response.</summary>
    public static IEnumerable<Finding> Toxicity(string? response, string detector)
        => ToxicityDetector.Detect(response).Select(hit => new Finding
        {
            Type = ToxicityDetector.Type,
            Severity = hit.Severity,
            Confidence = 0.9,
            Location = "response",
            Detector = detector,
            Message = hit.Category,
        });

    private static HashSet<string> Shingles(string text)
    {
        var words = TextNormalizer.Normalize(text).Split([' ', '\n', '\t', '.', ',', ';', ':', '!', '?', '"', '\''], StringSplitOptions.RemoveEmptyEntries);
        var shingles = new HashSet<string>(StringComparer.Ordinal);
        if (words.Length < MinimumWords)
        {
            return shingles;
        }

        for (var i = 0; i + ShingleSize <= words.Length; i++)
        {
            shingles.Add(string.Join(' ', words, i, ShingleSize));
        }

        return shingles;
    }
}
