using LlmTrace.Domain.Providers;

namespace LlmTrace.Domain.Capture;

/// <summary>Everything the proxy observed about one call, handed to <see cref="TraceBuilder"/> once the response is complete.</summary>
internal sealed class CompletedExchange
{
    public required Guid TraceId { get; init; }

    /// <summary>
    /// The tenant the trace is recorded under. Until the caller is authenticated this is the default tenant: a call refused
    /// before then (unknown route, bad key, no upstream, a fault) never lands in a tenant the client merely names.
    /// </summary>
    public Guid TenantId { get; set; } = Tenancy.TenantResolver.DefaultTenantId;

    /// <summary>The tenant the client names (header, or derived from its provider key); trusted only once authenticated.</summary>
    public required Guid RequestedTenantId { get; init; }

    /// <summary>The agent the trace is recorded under; like the tenant, only once the caller is authenticated.</summary>
    public string? AgentId { get; set; }

    /// <summary>The agent the client names.</summary>
    public string? RequestedAgentId { get; init; }

    /// <summary>True when no trace is to be written (an unauthenticated refusal over its rate limit).</summary>
    public bool SkipTrace { get; set; }

    public required ProviderKind Provider { get; init; }

    /// <summary>The route family (<see cref="GatewayRoute.Name"/>), or <c>none</c> for a path no route matches.</summary>
    public string RouteName { get; init; } = "none";

    /// <summary>The CLIENT span of the upstream call, when telemetry listens; ended once the trace is built.</summary>
    public System.Diagnostics.Activity? Activity { get; set; }

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

    /// <summary>The pool backend that served the call (pooled routes only).</summary>
    public string? Backend { get; set; }

    /// <summary>Every backend tried, in order (pooled routes only).</summary>
    public List<UpstreamAttempt>? Attempts { get; set; }

    /// <summary>How much of the request the guard analysed (see <see cref="Trace.GuardCoverage"/>).</summary>
    public string? GuardCoverage { get; set; }

    /// <summary>Who made the call (tenant settings, gateway key, the credential sent upstream), once authenticated.</summary>
    public Limits.CallIdentity? Identity { get; set; }

    /// <summary>What admission took for this call (rate-limit lease, budget hold), released when the trace is built.</summary>
    public Limits.AdmissionTicket? Admission { get; set; }
}
