using System.Buffers;

namespace LlmTrace.Domain.Capture;

/// <summary>
/// Bytes kept in one pooled array: the unfinished tail of a byte stream (a partial SSE event) until it completes, or a
/// record being serialized (it is an <see cref="IBufferWriter{T}"/>). Dispose to return the array.
/// </summary>
internal sealed class PendingBytes : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(4096);

    public int Length { get; private set; }

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, Length);

    /// <summary>The bytes written so far, for a header filled in once the rest is known.</summary>
    public Span<byte> WrittenSpan => _buffer.AsSpan(0, Length);

    public void Append(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        EnsureRoom(data.Length);
        data.CopyTo(_buffer.AsSpan(Length));
        Length += data.Length;
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        EnsureRoom(Math.Max(sizeHint, 1));
        return _buffer.AsSpan(Length);
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        EnsureRoom(Math.Max(sizeHint, 1));
        return _buffer.AsMemory(Length);
    }

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _buffer.Length - Length);
        Length += count;
    }

    /// <summary>Drops the first <paramref name="count"/> bytes, keeping the rest.</summary>
    public void Consume(int count)
    {
        _buffer.AsSpan(count, Length - count).CopyTo(_buffer);
        Length -= count;
    }

    public void Clear() => Length = 0;

    private void EnsureRoom(int count)
    {
        if (Length + count > _buffer.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, Length + count));
            _buffer.AsSpan(0, Length).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        Length = 0;
    }
}
