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
