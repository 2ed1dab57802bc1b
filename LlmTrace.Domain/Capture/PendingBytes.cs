using System.Buffers;

namespace LlmTrace.Domain.Capture;

/// <summary>The unfinished tail of a byte stream (a partial SSE event), kept in one pooled array until it completes.</summary>
internal sealed class PendingBytes : IDisposable
{
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(4096);

    public int Length { get; private set; }

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, Length);

    public void Append(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        if (Length + data.Length > _buffer.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, Length + data.Length));
            _buffer.AsSpan(0, Length).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }

        data.CopyTo(_buffer.AsSpan(Length));
        Length += data.Length;
    }

    /// <summary>Drops the first <paramref name="count"/> bytes, keeping the rest.</summary>
    public void Consume(int count)
    {
        _buffer.AsSpan(count, Length - count).CopyTo(_buffer);
        Length -= count;
    }

    public void Clear() => Length = 0;

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        Length = 0;
    }
}
