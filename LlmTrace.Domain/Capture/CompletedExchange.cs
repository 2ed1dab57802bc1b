using LlmTrace.Domain.Providers;

namespace LlmTrace.Domain.Capture;

/// <summary>Everything the proxy observed about one call, handed to <see cref="TraceBuilder"/> once the response is complete.</summary>
internal sealed class CompletedExchange
{
    public required Guid TraceId { get; init; }

    public required Guid TenantId { get; set; }

    public string? AgentId { get; init; }

    public required ProviderKind Provider { get; init; }

    public required string Endpoint { get; init; }

    public string? PathAfterPrefix { get; init; }

    public required string Method { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public int StatusCode { get; set; }

    public double DurationMs { get; set; }

    public double? TtftMs { get; set; }

    public RequestInfo? Request { get; set; }

    public long RequestBytes { get; set; }

    /// <summary>Upstream response bytes as received (before any rewrite for the client).</summary>
    public CaptureBuffer? Response { get; set; }

    public string? ResponseContentType { get; set; }

    public string? ResponseContentEncoding { get; set; }

    /// <summary>Bytes written to the client.</summary>
    public long ResponseBytes { get; set; }

    public bool ClientCancelled { get; set; }

    public string? Error { get; set; }

    public bool UsageInjected { get; set; }

    /// <summary>Findings of the pre-request guard, and whether it blocked or flagged the call.</summary>
    public IReadOnlyList<Finding> GuardFindings { get; set; } = [];

    /// <summary>Findings of the streaming output monitor.</summary>
    public IReadOnlyList<Finding> StreamFindings { get; set; } = [];

    /// <summary>The PII and secrets the guard found in <see cref="Request"/>'s prompt, when it scanned for them.</summary>
    public IReadOnlyList<Security.SensitiveMatch>? GuardSensitiveMatches { get; set; }

    /// <summary>The injection analysis the guard completed (see <see cref="Trace.GuardAnalysis"/>).</summary>
    public string? GuardAnalysis { get; set; }

    /// <summary>Who made the call (tenant settings, gateway key, the credential sent upstream), once authenticated.</summary>
    public Limits.CallIdentity? Identity { get; set; }

    /// <summary>What admission took for this call (rate-limit lease, budget hold), released when the trace is built.</summary>
    public Limits.AdmissionTicket? Admission { get; set; }
}
