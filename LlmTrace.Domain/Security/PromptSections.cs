using System.Text;
using LlmTrace.Domain.Capture;

namespace LlmTrace.Domain.Security;

/// <summary>
/// The parts of a request's prompt the analysers read, taken from its segments (never from the rendered text): what
/// users, tools and documents put in (scored for injection), and the application's own system and developer messages
/// (checked for leaks). A prompt without segments (a trace from before they existed) counts as untrusted throughout.
/// </summary>
internal sealed class PromptSections
{
    private readonly List<(PromptSegment Segment, int Offset)> _untrusted = [];

    private PromptSections()
    {
    }

    public static PromptSections Empty { get; } = new();

    /// <summary>The user-controlled text, segment after segment, one line break between them.</summary>
    public string? Untrusted { get; private init; }

    /// <summary>The system and developer messages' text.</summary>
    public string? Trusted { get; private init; }

    /// <summary>True when tool results or documents are among the untrusted text.</summary>
    public bool HasContent { get; private init; }

    public static PromptSections From(string? prompt, IReadOnlyList<PromptSegment>? segments)
    {
        if (string.IsNullOrEmpty(prompt))
        {
            return Empty;
        }

        if (segments is null)
        {
            var legacy = new PromptSections { Untrusted = prompt };
            legacy._untrusted.Add((new PromptSegment { Source = PromptSources.Unknown, Start = 0, Length = prompt.Length }, 0));
            return legacy;
        }

        var untrusted = new StringBuilder();
        var trusted = new StringBuilder();
        var parts = new List<(PromptSegment, int)>();
        var hasContent = false;
        foreach (var segment in segments)
        {
            if (segment.Start < 0 || segment.Length <= 0 || segment.Start > prompt.Length - segment.Length)
            {
                continue; // A span that does not fit the prompt is ignored, never trusted.
            }

            var text = prompt.AsSpan(segment.Start, segment.Length);
            var target = segment.IsTrusted ? trusted : untrusted;
            if (target.Length > 0)
            {
                target.Append('\n');
            }

            if (!segment.IsTrusted)
            {
                parts.Add((segment, target.Length));
                hasContent |= PromptSources.IsContent(segment.Source);
            }

            target.Append(text);
        }

        var sections = new PromptSections
        {
            Untrusted = untrusted.Length == 0 ? null : untrusted.ToString(),
            Trusted = trusted.Length == 0 ? null : trusted.ToString(),
            HasContent = hasContent,
        };
        sections._untrusted.AddRange(parts);
        return sections;
    }

    /// <summary>
    /// The finding with the segment it most likely came from: the untrusted segment the rules score highest on its own
    /// (the later one on a tie); when no segment scores alone (an attack split across messages), the last one.
    /// </summary>
    public Finding Attribute(Finding finding, PromptInjectionDetector detector)
    {
        if (Untrusted is null || _untrusted.Count == 0)
        {
            return finding;
        }

        var best = _untrusted[^1].Segment;
        if (_untrusted.Count > 1)
        {
            var bestScore = 0.0;
            foreach (var (segment, offset) in _untrusted)
            {
                var score = detector.Evaluate(Untrusted.Substring(offset, segment.Length), PromptSources.IsContent(segment.Source)).Score;
                if (score > 0 && score >= bestScore)
                {
                    (best, bestScore) = (segment, score);
                }
            }
        }

        return finding with { Source = best.Source, MessageIndex = best.Message };
    }
}
