using LlmTrace.Domain.Capture;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Security;

/// <summary>
/// Runs at capture, before a trace is queued or stored anywhere: finds PII and secrets in the prompt, the response and
/// tool-call arguments, attaches a finding for each (kind, span, masked preview), and redacts every secret (and PII when
/// <see cref="SecurityOptions.PiiHandling"/> is <c>Redact</c>).
/// </summary>
public sealed class CaptureRedactor(IOptionsMonitor<SecurityOptions> options)
{
    public const string DetectorPrefix = "capture.";

    /// <param name="tenantPiiHandling">The tenant's own PII setting, which replaces the global one when set.</param>
    /// <param name="promptMatches">What the pre-request guard already found in this very prompt, so it is not scanned twice.</param>
    public Trace Apply(Trace trace, PiiHandling? tenantPiiHandling = null, IReadOnlyList<SensitiveMatch>? promptMatches = null)
    {
        var redactPii = (tenantPiiHandling ?? options.CurrentValue.PiiHandling) == PiiHandling.Redact;
        var findings = new List<Finding>();
        var prompt = Scan(trace.Prompt, "request", redactPii, findings, promptMatches, out var promptRedactions);
        var response = Scan(trace.Response, "response", redactPii, findings, null, out _);
        var toolCalls = trace.ToolCalls.Select(call => call with { Arguments = Scan(call.Arguments, "tool_call", redactPii, findings, null, out _) }).ToList();
        if (findings.Count == 0)
        {
            return trace;
        }

        return trace with
        {
            Prompt = prompt,
            Segments = promptRedactions.Count == 0 || trace.Segments is null ? trace.Segments : Remap(trace.Segments, promptRedactions),
            Response = response,
            ToolCalls = toolCalls,
            Findings = [.. trace.Findings.Where(f => !f.Detector.StartsWith(DetectorPrefix, StringComparison.Ordinal)), .. findings],
        };
    }

    private static string? Scan(
        string? text, string location, bool redactPii, List<Finding> findings, IReadOnlyList<SensitiveMatch>? known, out List<SensitiveMatch> redacted)
    {
        redacted = [];
        if (string.IsNullOrEmpty(text))
        {
            return text;
        }

        var matches = known ?? SensitiveDataDetector.Detect(text);
        foreach (var match in matches)
        {
            findings.Add(new Finding
            {
                Type = match.Category,
                Severity = Severity(match),
                Confidence = 0.99,
                Location = location,
                Detector = DetectorPrefix + (match.Category == SensitiveDataDetector.Secret ? "secrets" : "pii"),
                Message = match.Kind,
                Start = match.Start,
                Length = match.Length,
                Preview = SensitiveDataDetector.Preview(text, match),
            });
        }

        redacted = SensitiveDataDetector.Replaced(matches.Where(m => m.Category == SensitiveDataDetector.Secret || redactPii));
        return redacted.Count == 0 ? text : SensitiveDataDetector.Redact(text, redacted);
    }

    /// <summary>The segments' spans in the redacted prompt: a segment that held a redacted value holds its <c>[REDACTED:kind]</c>.</summary>
    internal static IReadOnlyList<PromptSegment> Remap(IReadOnlyList<PromptSegment> segments, List<SensitiveMatch> redacted)
    {
        // shift[i]: how far text after the i-th replacement moved.
        var shift = new int[redacted.Count];
        var ends = new int[redacted.Count];
        var total = 0;
        for (var i = 0; i < redacted.Count; i++)
        {
            total += SensitiveDataDetector.Replacement(redacted[i].Kind).Length - redacted[i].Length;
            shift[i] = total;
            ends[i] = redacted[i].Start + redacted[i].Length;
        }

        return [.. segments.Select(segment =>
        {
            var start = Map(segment.Start, atEnd: false);
            return segment with { Start = start, Length = Map(segment.Start + segment.Length, atEnd: true) - start };
        })];

        int Map(int offset, bool atEnd)
        {
            // The replacements that end at or before the offset move it; one that contains it takes it to its edge.
            var index = Array.BinarySearch(ends, offset);
            var before = index >= 0 ? index : ~index - 1;
            while (before + 1 < ends.Length && ends[before + 1] <= offset)
            {
                before++;
            }

            var moved = before >= 0 ? shift[before] : 0;
            var next = before + 1;
            if (next < redacted.Count && redacted[next].Start < offset)
            {
                var replacementStart = redacted[next].Start + moved;
                return atEnd ? replacementStart + SensitiveDataDetector.Replacement(redacted[next].Kind).Length : replacementStart;
            }

            return offset + moved;
        }
    }

    internal static FindingSeverity Severity(SensitiveMatch match) => match.Kind switch
    {
        "pem_private_key" or "azure_storage_connection_string" or "azure_storage_account_key" or "aws_secret_access_key" => FindingSeverity.Critical,
        _ when match.Category == SensitiveDataDetector.Secret => FindingSeverity.High,
        "payment_card" or "us_ssn" or "iban" or "uk_nino" => FindingSeverity.High,
        "email" or "phone" => FindingSeverity.Low,
        _ => FindingSeverity.Medium,
    };
}
