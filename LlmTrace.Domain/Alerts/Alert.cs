using System.Text.Json.Serialization;
using LlmTrace.Domain.Capture;

namespace LlmTrace.Domain.Alerts;

/// <summary>
/// The webhook payload (camelCase JSON). Kinds: <c>security_finding</c>, <c>anomaly</c>, <c>budget_threshold</c>,
/// <c>unpriced_model</c>, <c>poison_message</c>, <c>capture_failed</c>.
/// </summary>
public sealed record Alert
{
    public required Guid AlertId { get; init; }

    public required string Kind { get; init; }

    public required FindingSeverity Severity { get; init; }

    public Guid? TenantId { get; init; }

    public Guid? TraceId { get; init; }

    /// <summary>A link to the trace in the management API, when a public base URL is configured.</summary>
    public string? TraceUrl { get; init; }

    /// <summary>One line for a human. Never prompt text or secrets.</summary>
    public required string Summary { get; init; }

    public required DateTimeOffset At { get; init; }

    /// <summary>Kind-specific figures (window, spend, limit, finding types, …).</summary>
    public IReadOnlyDictionary<string, string> Details { get; init; } = new Dictionary<string, string>();
}

[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(Alert))]
internal sealed partial class AlertJsonContext : JsonSerializerContext;
