using System.Buffers;

namespace LlmTrace.Domain.Capture;

/// <summary>
/// Keeps a bounded copy of a response as it streams past: the first <c>headLimit</c> bytes and the last
/// <c>tailLimit</c> bytes (where usage usually sits). Memory per call never exceeds the two limits.
/// Arrays are pooled; dispose to return them.
/// </summary>
internal sealed class CaptureBuffer : IDisposable
{
    private readonly int _headLimit;
    private readonly int _tailLimit;
    private byte[] _head;
    private int _headLength;
    private byte[]? _tail;
    private int _tailStart;
    private int _tailLength;

    public CaptureBuffer(int headLimit, int tailLimit)
    {
        _headLimit = headLimit;
        _tailLimit = tailLimit;
        _head = ArrayPool<byte>.Shared.Rent(Math.Min(headLimit, 16 * 1024));
    }

    public long TotalBytes { get; private set; }

    public bool Truncated => TotalBytes > _headLength;

    public ReadOnlySpan<byte> Head => _head.AsSpan(0, _headLength);

    public void Append(ReadOnlySpan<byte> data)
    {
        TotalBytes += data.Length;
        var room = _headLimit - _headLength;
        if (room > 0)
        {
            var take = Math.Min(room, data.Length);
            EnsureHeadCapacity(_headLength + take);
            data[..take].CopyTo(_head.AsSpan(_headLength));
            _headLength += take;
            data = data[take..];
        }

        if (!data.IsEmpty && _tailLimit > 0)
        {
            AppendTail(data);
        }
    }

    /// <summary>The bytes after the head that were kept, oldest first; empty unless truncated.</summary>
    public byte[] CopyTail()
    {
        if (_tail is null || _tailLength == 0)
        {
            return [];
        }

        var result = new byte[_tailLength];
        var first = Math.Min(_tailLength, _tail.Length - _tailStart);
        _tail.AsSpan(_tailStart, first).CopyTo(result);
        _tail.AsSpan(0, _tailLength - first).CopyTo(result.AsSpan(first));
        return result;
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_head);
        _head = [];
        if (_tail is not null)
        {
            ArrayPool<byte>.Shared.Return(_tail);
            _tail = null;
        }
    }

    private void EnsureHeadCapacity(int needed)
    {
        if (needed <= _head.Length)
        {
            return;
        }

        var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(_headLimit, Math.Max(needed, _head.Length * 2)));
        _head.AsSpan(0, _headLength).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_head);
        _head = bigger;
    }

    private void AppendTail(ReadOnlySpan<byte> data)
    {
        _tail ??= ArrayPool<byte>.Shared.Rent(_tailLimit);
        var capacity = _tailLimit;
        if (data.Length >= capacity)
        {
            data[^capacity..].CopyTo(_tail);
            _tailStart = 0;
            _tailLength = capacity;
            return;
        }

        // Ring buffer: write at the end position, overwriting the oldest bytes.
        var end = (_tailStart + _tailLength) % capacity;
        var first = Math.Min(data.Length, capacity - end);
        data[..first].CopyTo(_tail.AsSpan(end));
        data[first..].CopyTo(_tail.AsSpan(0));
        var length = _tailLength + data.Length;
        if (length > capacity)
        {
            _tailStart = (_tailStart + (length - capacity)) % capacity;
            length = capacity;
        }

        _tailLength = length;
    }
}
