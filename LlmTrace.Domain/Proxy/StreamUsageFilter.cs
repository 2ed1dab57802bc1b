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

    private byte[] _pending = ArrayPool<byte>.Shared.Rent(4096);
    private int _pendingLength;

    /// <summary>Feeds upstream bytes; writes every event that is now complete to <paramref name="output"/>.</summary>
    public void Process(ReadOnlySpan<byte> input, IBufferWriter<byte> output)
    {
        if (_pendingLength == 0)
        {
            // Fast path: emit the complete events straight from the input, keep only the unfinished rest.
            var consumed = EmitEvents(input, output);
            Append(input[consumed..]);
            return;
        }

        Append(input);
        var used = EmitEvents(_pending.AsSpan(0, _pendingLength), output);
        _pending.AsSpan(used, _pendingLength - used).CopyTo(_pending);
        _pendingLength -= used;
        if (_pendingLength > MaxPendingBytes)
        {
            // Not SSE as we know it: stop holding bytes back.
            output.Write(_pending.AsSpan(0, _pendingLength));
            _pendingLength = 0;
        }
    }

    /// <summary>Writes whatever is left when the upstream stream ends.</summary>
    public void Complete(IBufferWriter<byte> output)
    {
        if (_pendingLength > 0)
        {
            WriteEvent(_pending.AsSpan(0, _pendingLength), output);
            _pendingLength = 0;
        }
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_pending);
        _pending = [];
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

    private void Append(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        if (_pendingLength + data.Length > _pending.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_pending.Length * 2, _pendingLength + data.Length));
            _pending.AsSpan(0, _pendingLength).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_pending);
            _pending = bigger;
        }

        data.CopyTo(_pending.AsSpan(_pendingLength));
        _pendingLength += data.Length;
    }
}
