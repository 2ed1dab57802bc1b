using System.Text;
using System.Text.Json;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Providers;

namespace LlmTrace.Tests.Infrastructure;

/// <summary>A prompt and its segments as the gateway reads them from a real OpenAI chat request body.</summary>
internal static class ChatPrompt
{
    public static (string Prompt, IReadOnlyList<PromptSegment> Segments) Of(params (string Role, string Text)[] messages)
    {
        var body = JsonSerializer.Serialize(new { model = "gpt-4o-mini", messages = messages.Select(m => new { role = m.Role, content = m.Text }) });
        var info = ProviderProtocol.For(ProviderKind.OpenAI).ReadRequest(Encoding.UTF8.GetBytes(body), "chat/completions", null);
        return (info.Prompt!, info.Segments!);
    }

    /// <summary>The trace with the prompt and segments of these messages.</summary>
    public static Trace With(this Trace trace, params (string Role, string Text)[] messages)
    {
        var (prompt, segments) = Of(messages);
        return trace with { Prompt = prompt, Segments = segments };
    }
}
