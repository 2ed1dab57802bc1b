using System.Buffers;
using System.Text;
using System.Text.Json;

namespace LlmTrace.Domain.Providers;

/// <summary>
/// How a provider's SSE stream ends when the gateway stops it early (the stream monitor's Block), in the provider's own
/// finish events, so the client's SDK sees a normal end: OpenAI-style <c>finish_reason: "content_filter"</c> then
/// <c>[DONE]</c>; Anthropic <c>content_block_stop</c>, <c>message_delta</c> with <c>stop_reason: "refusal"</c>, then
/// <c>message_stop</c>. Providers without such a form (Gemini) are not stopped mid-stream.
/// </summary>
internal static class ProviderStreamEnd
{
    /// <summary>What the stream showed so far that the finish events repeat.</summary>
    public readonly record struct State(string? ChunkId, long? Created, string? Model, int? OpenBlock, int OutputTokens);

    public static bool Supports(ProviderKind provider) => provider.IsOpenAIFamily() || provider == ProviderKind.Anthropic;

    public static void WriteRefusal(ProviderKind provider, State state, IBufferWriter<byte> output)
    {
        var builder = new StringBuilder();
        if (provider == ProviderKind.Anthropic)
        {
            if (state.OpenBlock is { } block)
            {
                builder.Append("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":").Append(block).Append("}\n\n");
            }

            builder.Append(
                "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"refusal\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":")
                .Append(state.OutputTokens).Append("}}\n\n")
                .Append("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
        }
        else
        {
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                writer.WriteString("id", state.ChunkId ?? "chatcmpl-llmtrace");
                writer.WriteString("object", "chat.completion.chunk");
                writer.WriteNumber("created", state.Created ?? 0);
                writer.WriteString("model", state.Model ?? "unknown");
                writer.WriteStartArray("choices");
                writer.WriteStartObject();
                writer.WriteNumber("index", 0);
                writer.WriteStartObject("delta");
                writer.WriteEndObject();
                writer.WriteString("finish_reason", "content_filter");
                writer.WriteEndObject();
                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            builder.Append("data: ").Append(Encoding.UTF8.GetString(buffer.ToArray())).Append("\n\ndata: [DONE]\n\n");
        }

        output.Write(Encoding.UTF8.GetBytes(builder.ToString()));
    }
}
