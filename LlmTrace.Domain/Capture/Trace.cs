using System.Text.Json.Serialization;

namespace LlmTrace.Domain.Capture;

/// <summary>
/// One captured LLM call: what was asked, what came back, what it cost in tokens and how long it took.
/// Serialised camelCase (see <see cref="CaptureJsonContext"/>). Never holds a provider credential.
/// </summary>
public sealed record Trace
{
    public required Guid TraceId { get; init; }

    public required Guid TenantId { get; init; }

    public string? AgentId { get; init; }

    /// <summary>openai | azure-openai | anthropic | gemini | openai-compatible (unknown for unmatched routes).</summary>
    public required string Provider { get; init; }

    public string? Model { get; init; }

    /// <summary>The client-facing path, e.g. <c>/v1/chat/completions</c> (no query string: it may carry keys).</summary>
    public required string Endpoint { get; init; }

    /// <summary>chat | completions | embeddings | responses | messages | generate_content | other.</summary>
    public string? Operation { get; init; }

    public required string Method { get; init; }

    public int StatusCode { get; init; }

    public bool Streaming { get; init; }

    public DateTimeOffset StartedAt { get; init; }

    public double DurationMs { get; init; }

    /// <summary>Time from the start of the call to the first response byte from upstream.</summary>
    public double? TtftMs { get; init; }

    public int? PromptTokens { get; init; }

    public int? CompletionTokens { get; init; }

    public int? TotalTokens { get; init; }

    /// <summary>Prompt tokens served from the provider's cache, when reported.</summary>
    public int? CachedPromptTokens { get; init; }

    /// <summary>True when token counts were computed by the gateway's tokenizer, not reported by the provider.</summary>
    public bool UsageEstimated { get; init; }

    /// <summary>Prompt tokens written to the provider's prompt cache (part of <see cref="PromptTokens"/>), priced at the cache-write rate.</summary>
    public int? CacheWriteTokens { get; init; }

    /// <summary>Of <see cref="CacheWriteTokens"/>, those cached for one hour (a higher rate than five minutes).</summary>
    public int? CacheWrite1hTokens { get; init; }

    /// <summary>The upstream reported usage that cannot be true (negative, absurd, more cached than prompt tokens); it was discarded and estimated.</summary>
    public bool UsageInvalid { get; init; }

    /// <summary>Role-prefixed prompt text, one message per line block.</summary>
    public string? Prompt { get; init; }

    /// <summary>The assembled response text (from SSE deltas when streaming).</summary>
    public string? Response { get; init; }

    public IReadOnlyList<ToolCall> ToolCalls { get; init; } = [];

    public long RequestBytes { get; init; }

    public long ResponseBytes { get; init; }

    /// <summary>True when more was received than the capture limit kept; text fields hold what was kept.</summary>
    public bool CaptureTruncated { get; init; }

    public bool ClientCancelled { get; init; }

    /// <summary>Set when the upstream call failed or was cut short: a short code and message, never request text.</summary>
    public string? Error { get; init; }

    /// <summary>Set when the request or response body could not be read as the provider's JSON; the call is still forwarded.</summary>
    public string? ParseError { get; init; }

    /// <summary>True when the gateway added <c>stream_options.include_usage</c> upstream and removed the usage chunk.</summary>
    public bool UsageInjected { get; init; }

    public string? FinishReason { get; init; }

    /// <summary>What the call cost, from the pricing catalog; null until priced, or when the model is unknown (see <see cref="Priced"/>).</summary>
    public TraceCost? Cost { get; init; }

    /// <summary>False when the catalog had no price for the model; null before cost accounting ran.</summary>
    public bool? Priced { get; init; }

    /// <summary>
    /// The injection analysis the pre-request guard completed on this call (<c>rules</c> or <c>ensemble</c>), so the
    /// security stage reuses its findings instead of running it again; null when the guard did not run or ran out of time.
    /// </summary>
    public string? GuardAnalysis { get; init; }

    /// <summary>
    /// Where each piece of <see cref="Prompt"/> came from, as the request's structure said (never re-read from the text):
    /// the analysers score only what users, tools and documents put in, and check the application's own system and
    /// developer messages for leaks. Null on traces captured before segments existed (the whole prompt counts as untrusted).
    /// </summary>
    public IReadOnlyList<PromptSegment>? Segments { get; init; }

    /// <summary>
    /// How much of the request the pre-request guard analysed: <c>full</c>; <c>tolerant</c> (the body could not be read as
    /// the provider's JSON, so every string in it was analysed); <c>incomplete:&lt;reason&gt;</c>; null when the guard did not run.
    /// </summary>
    public string? GuardCoverage { get; init; }

    /// <summary>Security and anomaly findings, attached by the processors.</summary>
    public IReadOnlyList<Finding> Findings { get; init; } = [];

    /// <summary>The pool backend that served the call; null on a route with a single URL.</summary>
    public string? Backend { get; init; }

    /// <summary>Every backend tried for the call, in order (pooled routes only).</summary>
    public IReadOnlyList<UpstreamAttempt>? Attempts { get; init; }
}

/// <summary>One try of one backend of a pool.</summary>
public sealed record UpstreamAttempt
{
    public required string Backend { get; init; }

    /// <summary>The upstream's status code; null when no response came (unreachable, timeout, breaker open).</summary>
    public int? Status { get; init; }

    public double DurationMs { get; init; }

    /// <summary><c>served</c>, <c>throttled</c>, <c>server_error</c>, <c>unreachable</c>, <c>timeout</c> or <c>breaker_open</c>.</summary>
    public required string Outcome { get; init; }
}

/// <summary>One piece of a request's prompt: a span of <see cref="Trace.Prompt"/> and the message and role that carried it.</summary>
public sealed record PromptSegment
{
    /// <summary>One of <see cref="PromptSources"/>.</summary>
    public required string Source { get; init; }

    /// <summary>The index of the message (or input item, or content) in the request; null for top-level fields such as <c>system</c>.</summary>
    public int? Message { get; init; }

    /// <summary>Where the piece starts in <see cref="Trace.Prompt"/>, in characters.</summary>
    public int Start { get; init; }

    public int Length { get; init; }

    /// <summary>The application's own instructions (system or developer), as opposed to what users, tools and documents put in.</summary>
    [JsonIgnore]
    public bool IsTrusted => Source is PromptSources.System or PromptSources.Developer;
}

/// <summary>The sources of prompt segments.</summary>
internal static class PromptSources
{
    public const string System = "system";
    public const string Developer = "developer";
    public const string User = "user";
    public const string Assistant = "assistant";

    /// <summary>A tool result or function response handed back to the model.</summary>
    public const string Tool = "tool";

    /// <summary>A document given to the model (Anthropic <c>document</c> blocks).</summary>
    public const string Document = "document";

    /// <summary>The arguments of a tool call in the conversation history.</summary>
    public const string ToolCall = "tool_call";

    /// <summary>A string found in a body that could not be read as the provider's schema.</summary>
    public const string Unknown = "unknown";

    /// <summary>Content handed over for processing rather than typed by the user: indirect-injection rules weigh more here.</summary>
    public static bool IsContent(string source) => source is Tool or Document;
}

/// <summary>The price of one call in US dollars, split by token kind.</summary>
public sealed record TraceCost
{
    public decimal Input { get; init; }

    public decimal CachedInput { get; init; }

    /// <summary>Prompt-cache writes (five-minute and one-hour).</summary>
    public decimal CacheWrite { get; init; }

    public decimal Output { get; init; }

    public decimal Total { get; init; }

    public string Currency { get; init; } = "USD";

    /// <summary>The catalog entry the model resolved to, e.g. <c>gpt-4o-mini</c> for <c>gpt-4o-mini-2024-07-18</c>.</summary>
    public required string PricedAs { get; init; }

    /// <summary>The date of the catalog's prices.</summary>
    public required string CatalogDate { get; init; }
}

/// <summary>One thing a detector found about a call.</summary>
public sealed record Finding
{
    /// <summary>prompt_injection, jailbreak, pii, secret, cost_anomaly, token_anomaly, latency_anomaly, velocity_anomaly, …</summary>
    public required string Type { get; init; }

    public required FindingSeverity Severity { get; init; }

    /// <summary>0–1.</summary>
    public double Confidence { get; init; } = 1;

    /// <summary>request | response | tool_call | usage.</summary>
    public required string Location { get; init; }

    /// <summary>The rule or model that produced it.</summary>
    public required string Detector { get; init; }

    /// <summary>A short explanation. Never the offending text or a secret.</summary>
    public string? Message { get; init; }

    /// <summary>For PII and secrets: where it was, in characters of the original text at <see cref="Location"/>.</summary>
    public int? Start { get; init; }

    public int? Length { get; init; }

    /// <summary>For PII and secrets: a masked preview that shows the shape, never the value.</summary>
    public string? Preview { get; init; }

    /// <summary>For request findings: the source of the segment it came from (<see cref="PromptSources"/>).</summary>
    public string? Source { get; init; }

    /// <summary>For request findings: the index of the message it came from.</summary>
    public int? MessageIndex { get; init; }
}

[JsonConverter(typeof(WireEnumConverter<FindingSeverity>))]
public enum FindingSeverity
{
    [JsonStringEnumMemberName("info")]
    Info = 0,
    [JsonStringEnumMemberName("low")]
    Low = 1,
    [JsonStringEnumMemberName("medium")]
    Medium = 2,
    [JsonStringEnumMemberName("high")]
    High = 3,
    [JsonStringEnumMemberName("critical")]
    Critical = 4,
}

/// <summary>A tool (function) call seen in the request history or produced by the model.</summary>
public sealed record ToolCall
{
    public string? Id { get; init; }

    public required string Name { get; init; }

    /// <summary>The arguments as the provider sent them (a JSON string).</summary>
    public string? Arguments { get; init; }

    /// <summary>request | response.</summary>
    public required string Source { get; init; }
}
