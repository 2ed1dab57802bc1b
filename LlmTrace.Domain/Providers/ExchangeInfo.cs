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

    /// <summary>Number of messages, used for the estimator's per-message overhead.</summary>
    public int MessageCount { get; set; }

    public List<ToolCall> ToolCalls { get; } = [];

    /// <summary>The output cap the client asked for (<c>max_tokens</c>, <c>max_completion_tokens</c>, <c>max_output_tokens</c>, <c>maxOutputTokens</c>).</summary>
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

    public string? FinishReason { get; set; }

    public string? ParseError { get; set; }

    public bool HasUsage => PromptTokens is not null || CompletionTokens is not null;
}
