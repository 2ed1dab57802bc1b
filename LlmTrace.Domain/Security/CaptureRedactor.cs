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
        var prompt = Scan(trace.Prompt, "request", redactPii, findings, promptMatches);
        var response = Scan(trace.Response, "response", redactPii, findings);
        var toolCalls = trace.ToolCalls.Select(call => call with { Arguments = Scan(call.Arguments, "tool_call", redactPii, findings) }).ToList();
        if (findings.Count == 0)
        {
            return trace;
        }

        return trace with
        {
            Prompt = prompt,
            Response = response,
            ToolCalls = toolCalls,
            Findings = [.. trace.Findings.Where(f => !f.Detector.StartsWith(DetectorPrefix, StringComparison.Ordinal)), .. findings],
        };
    }

    private static string? Scan(string? text, string location, bool redactPii, List<Finding> findings, IReadOnlyList<SensitiveMatch>? known = null)
    {
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

        var toRedact = matches.Where(m => m.Category == SensitiveDataDetector.Secret || redactPii).ToList();
        return toRedact.Count == 0 ? text : SensitiveDataDetector.Redact(text, toRedact);
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
