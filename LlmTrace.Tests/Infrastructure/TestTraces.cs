using LlmTrace.Domain.Capture;

namespace LlmTrace.Tests.Infrastructure;

/// <summary>A minimal valid trace of a chat completion, for tests of what carries or stores traces.</summary>
public static class TestTraces
{
    public static Trace New(string? prompt = null) => new()
    {
        TraceId = Guid.NewGuid(),
        TenantId = Guid.NewGuid(),
        Provider = "openai",
        Endpoint = "/v1/chat/completions",
        Method = "POST",
        StatusCode = 200,
        StartedAt = DateTimeOffset.UtcNow,
        Prompt = prompt,
    };
}
