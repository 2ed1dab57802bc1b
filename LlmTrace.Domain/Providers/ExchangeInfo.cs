using System.Text;
using LlmTrace.Domain.Capture;

namespace LlmTrace.Domain.Providers;

/// <summary>What the gateway read from a request body.</summary>
internal sealed class RequestInfo
{
    public string? Model { get; set; }

    public string Operation { get; set; } = "other";

    public bool Streaming { get; set; }

    /// <summary>The client itself asked for <c>stream_options.include_usage</c>.</summary>
    public bool ClientRequestedStreamUsage { get; set; }

    /// <summary>The request may have its stream usage injected (OpenAI-style streaming chat or completions).</summary>
    public bool SupportsStreamUsage { get; set; }

    public string? Prompt { get; set; }

    /// <summary>Where each piece of <see cref="Prompt"/> came from (see <see cref="PromptBuilder"/>).</summary>
    public IReadOnlyList<PromptSegment>? Segments { get; set; }

    /// <summary>The untrusted and trusted text of the prompt, built once for the guard and the stream monitor.</summary>
    public Security.PromptSections Sections => field ??= Security.PromptSections.From(Prompt, Segments);

    /// <summary>
    /// How the prompt was read: <c>full</c> (the provider's schema), <c>tolerant</c> (every string of a body that could not
    /// be read as the provider's JSON) or <c>none</c> (not JSON).
    /// </summary>
    public string Coverage { get; set; } = RequestCoverage.Full;

    /// <summary>Number of messages, used for the estimator's per-message overhead.</summary>
    public int MessageCount { get; set; }

    public List<ToolCall> ToolCalls { get; } = [];

    /// <summary>The output cap the client asked for (<c>max_tokens</c>, <c>max_completion_tokens</c>,
    /// <c>max_output_tokens</c>, <c>maxOutputTokens</c>).</summary>
    public int? MaxOutputTokens { get; set; }

    /// <summary>How many completions the request asks for (OpenAI <c>n</c>, Gemini <c>candidateCount</c>); output budgets multiply by it.</summary>
    public int Choices { get; set; } = 1;

    public string? ParseError { get; set; }
}

/// <summary>What the gateway assembled from a response body (JSON or SSE).</summary>
internal sealed class ResponseInfo
{
    public string? Model { get; set; }

    public StringBuilder Text { get; } = new();

    public List<ToolCall> ToolCalls { get; } = [];

    public int? PromptTokens { get; set; }

    public int? CompletionTokens { get; set; }

    public int? TotalTokens { get; set; }

    public int? CachedPromptTokens { get; set; }

    /// <summary>Prompt tokens written to the provider's cache (Anthropic <c>cache_creation_input_tokens</c>), part of <see cref="PromptTokens"/>.</summary>
    public int? CacheWriteTokens { get; set; }

    /// <summary>Of <see cref="CacheWriteTokens"/>, those written for one hour (Anthropic <c>cache_creation.ephemeral_1h_input_tokens</c>).</summary>
    public int? CacheWrite1hTokens { get; set; }

    /// <summary>
    /// The usage read so far is a running or opening figure, not the final one (an Anthropic stream before its
    /// <c>message_delta</c>, a Gemini stream before its last chunk): a stream cut here has its output estimated.
    /// </summary>
    public bool UsagePartial { get; set; }

    public string? FinishReason { get; set; }

    public string? ParseError { get; set; }

    /// <summary>Some of the response was not valid UTF-8 and was read with U+FFFD.</summary>
    public bool InvalidUtf8 { get; set; }

    public bool HasUsage => PromptTokens is not null || CompletionTokens is not null;
}

/// <summary>Values of <see cref="RequestInfo.Coverage"/>.</summary>
internal static class RequestCoverage
{
    public const string Full = "full";
    public const string Tolerant = "tolerant";
    public const string None = "none";
}
