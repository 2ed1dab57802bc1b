using System.Text;
using LlmTrace.Domain.Capture;

namespace LlmTrace.Tests.Capture;

public sealed class CaptureBufferTests
{
    [Theory]
    [InlineData(100, 10, 50, 7)]
    [InlineData(100, 10, 100, 1)]
    [InlineData(100, 10, 101, 3)]
    [InlineData(64, 16, 1000, 1)]
    [InlineData(64, 16, 1000, 13)]
    [InlineData(64, 16, 1000, 1000)]
    [InlineData(4096, 0, 10_000, 333)]
    public void Append_AnyChunking_KeepsHeadAndLastTailBytes(int head, int tail, int total, int chunk)
    {
        var data = Enumerable.Range(0, total).Select(i => (byte)(i % 251)).ToArray();
        using var buffer = new CaptureBuffer(head, tail);

        for (var offset = 0; offset < total; offset += chunk)
        {
            buffer.Append(data.AsSpan(offset, Math.Min(chunk, total - offset)));
        }

        Assert.Equal(total, buffer.TotalBytes);
        Assert.Equal(data.Take(head).ToArray(), buffer.Head.ToArray());
        Assert.Equal(total > head, buffer.Truncated);
        var kept = Math.Min(tail, Math.Max(0, total - head));
        Assert.Equal(data.Skip(total - kept).ToArray(), buffer.CopyTail());
    }

    [Theory]
    [InlineData("data: a\n\ndata: b\n\n", new[] { "a", "b" })]
    [InlineData("data: a\r\n\r\ndata: b\r\n\r\n", new[] { "a", "b" })]
    [InlineData("event: x\ndata: line1\ndata: line2\n\n", new[] { "line1\nline2" })]
    [InlineData(": comment\n\nid: 1\n\ndata:no-space\n\n", new[] { "no-space" })]
    [InlineData("data: complete\n\ndata: partial", new[] { "complete", "partial" })]
    public void SseReader_Events_YieldsEachDataPayload(string stream, string[] expected)
    {
        var reader = new SseReader(Encoding.UTF8.GetBytes(stream));
        var found = new List<string>();
        while (reader.TryReadNext(out var data))
        {
            found.Add(Encoding.UTF8.GetString(data));
        }

        Assert.Equal(expected, found);
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("not base64 at all!", "")]
    [InlineData("MTIzOmFiYw", "")]
    public void TraceCursor_Garbage_IsRejected(string token, string _)
        => Assert.False(TraceCursor.TryDecode(token, out var __));

    [Fact]
    public void TraceCursor_RoundTrip_KeepsPosition()
    {
        var cursor = new TraceCursor(DateTimeOffset.FromUnixTimeMilliseconds(1_760_000_000_123), Guid.NewGuid());

        Assert.True(TraceCursor.TryDecode(cursor.Encode(), out var decoded));
        Assert.Equal(cursor, decoded);
    }
}
