using System.Buffers;

namespace LlmTrace.Domain.Capture;

/// <summary>
/// Reads Server-Sent Events from a complete buffer: yields each event's data (multi-line data joined with '\n').
/// Used after a stream has finished, never on the hot path.
/// </summary>
internal ref struct SseReader
{
    private ReadOnlySpan<byte> _remaining;
    private ArrayBufferWriter<byte>? _joined;

    public SseReader(ReadOnlySpan<byte> buffer) => _remaining = buffer;

    /// <summary>Moves to the next event that has data. An unterminated last event counts when <paramref name="includePartial"/>.</summary>
    public bool TryReadNext(out ReadOnlySpan<byte> data, bool includePartial = true)
    {
        while (!_remaining.IsEmpty)
        {
            var end = FindEventEnd(_remaining, out var boundaryLength);
            ReadOnlySpan<byte> eventBytes;
            if (end < 0)
            {
                if (!includePartial)
                {
                    _remaining = default;
                    break;
                }

                eventBytes = _remaining;
                _remaining = default;
            }
            else
            {
                eventBytes = _remaining[..end];
                _remaining = _remaining[(end + boundaryLength)..];
            }

            if (TryGetData(eventBytes, out data))
            {
                return true;
            }
        }

        data = default;
        return false;
    }

    /// <summary>Index where the blank line that ends the first event starts, or -1.</summary>
    public static int FindEventEnd(ReadOnlySpan<byte> buffer, out int boundaryLength)
    {
        var offset = 0;
        while (true)
        {
            var newline = buffer[offset..].IndexOfAny((byte)'\n', (byte)'\r');
            if (newline < 0)
            {
                boundaryLength = 0;
                return -1;
            }

            var lineEnd = offset + newline;
            var next = lineEnd + (buffer[lineEnd] == '\r' && lineEnd + 1 < buffer.Length && buffer[lineEnd + 1] == '\n' ? 2 : 1);
            if (buffer[lineEnd] == '\r' && lineEnd + 1 == buffer.Length)
            {
                // A lone '\r' at the end may be the first half of "\r\n": wait for more.
                boundaryLength = 0;
                return -1;
            }

            if (next < buffer.Length && (buffer[next] == '\n' || buffer[next] == '\r'))
            {
                var blankEnd = next + (buffer[next] == '\r' && next + 1 < buffer.Length && buffer[next + 1] == '\n' ? 2 : 1);
                if (buffer[next] == '\r' && next + 1 == buffer.Length)
                {
                    boundaryLength = 0;
                    return -1;
                }

                boundaryLength = blankEnd - lineEnd;
                return lineEnd;
            }

            if (next >= buffer.Length)
            {
                boundaryLength = 0;
                return -1;
            }

            offset = next;
        }
    }

    private bool TryGetData(ReadOnlySpan<byte> eventBytes, out ReadOnlySpan<byte> data)
    {
        data = default;
        var found = 0;
        var first = ReadOnlySpan<byte>.Empty;
        var line = eventBytes;
        while (!line.IsEmpty)
        {
            var newline = line.IndexOfAny((byte)'\n', (byte)'\r');
            var current = newline < 0 ? line : line[..newline];
            var skip = newline < 0 ? line.Length : newline + (line[newline] == '\r' && newline + 1 < line.Length && line[newline + 1] == '\n' ? 2 : 1);
            line = line[skip..];

            if (!current.StartsWith("data:"u8))
            {
                continue;
            }

            var value = current[5..];
            if (!value.IsEmpty && value[0] == ' ')
            {
                value = value[1..];
            }

            if (found == 0)
            {
                first = value;
            }
            else
            {
                if (found == 1)
                {
                    _joined ??= new ArrayBufferWriter<byte>();
                    _joined.ResetWrittenCount();
                    _joined.Write(first);
                }

                var joined = _joined!;
                joined.Write("\n"u8);
                joined.Write(value);
            }

            found++;
        }

        if (found == 0)
        {
            return false;
        }

        data = found == 1 ? first : _joined!.WrittenSpan;
        return true;
    }
}
