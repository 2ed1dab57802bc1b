using System.Buffers;
using System.Text.Json;
using LlmTrace.Domain.Capture;

namespace LlmTrace.Domain.Proxy;

/// <summary>
/// Undoes the gateway's <c>include_usage</c> on an OpenAI-style SSE stream, event by event, so the client sees what it
/// would have seen: drops the usage-only chunk (<c>"choices":[]</c> with a usage object) and removes the
/// <c>"usage":null</c> member the upstream adds to every other chunk. Each complete event is emitted at once;
/// only a partial event is held back until its end arrives.
/// </summary>
internal sealed class StreamUsageFilter : IDisposable
{
    private static readonly byte[][] NullUsagePatterns =
    [
        ",\"usage\":null"u8.ToArray(),
        ", \"usage\": null"u8.ToArray(),
        ",\"usage\": null"u8.ToArray(),
    ];

    private const int MaxPendingBytes = 1024 * 1024;

    private readonly PendingBytes _pending = new();

    /// <summary>Feeds upstream bytes; writes every event that is now complete to <paramref name="output"/>.</summary>
    public void Process(ReadOnlySpan<byte> input, IBufferWriter<byte> output)
    {
        if (_pending.Length == 0)
        {
            // Fast path: emit the complete events straight from the input, keep only the unfinished rest.
            var consumed = EmitEvents(input, output);
            _pending.Append(input[consumed..]);
            return;
        }

        _pending.Append(input);
        _pending.Consume(EmitEvents(_pending.Span, output));
        if (_pending.Length > MaxPendingBytes)
        {
            // Not SSE as we know it: stop holding bytes back.
            output.Write(_pending.Span);
            _pending.Clear();
        }
    }

    /// <summary>Writes whatever is left when the upstream stream ends.</summary>
    public void Complete(IBufferWriter<byte> output)
    {
        if (_pending.Length > 0)
        {
            WriteEvent(_pending.Span, output);
            _pending.Clear();
        }
    }

    public void Dispose()
    {
        _pending.Dispose();
    }

    private static int EmitEvents(ReadOnlySpan<byte> buffer, IBufferWriter<byte> output)
    {
        var consumed = 0;
        while (true)
        {
            var end = SseReader.FindEventEnd(buffer[consumed..], out var boundary);
            if (end < 0)
            {
                return consumed;
            }

            var length = end + boundary;
            WriteEvent(buffer.Slice(consumed, length), output);
            consumed += length;
        }
    }

    private static void WriteEvent(ReadOnlySpan<byte> eventBytes, IBufferWriter<byte> output)
    {
        if (eventBytes.IndexOf("\"usage\""u8) < 0)
        {
            output.Write(eventBytes);
            return;
        }

        if (IsUsageOnlyChunk(eventBytes))
        {
            return;
        }

        var rest = eventBytes;
        while (!rest.IsEmpty)
        {
            var best = -1;
            var bestLength = 0;
            foreach (var pattern in NullUsagePatterns)
            {
                var at = rest.IndexOf(pattern);
                if (at >= 0 && (best < 0 || at < best))
                {
                    best = at;
                    bestLength = pattern.Length;
                }
            }

            if (best < 0)
            {
                output.Write(rest);
                return;
            }

            output.Write(rest[..best]);
            rest = rest[(best + bestLength)..];
        }
    }

    private static bool IsUsageOnlyChunk(ReadOnlySpan<byte> eventBytes)
    {
        var dataAt = eventBytes.IndexOf("data:"u8);
        if (dataAt < 0)
        {
            return false;
        }

        var data = eventBytes[(dataAt + 5)..].Trim(" \r\n"u8);
        try
        {
            var reader = new Utf8JsonReader(data);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            return root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() == 0;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
