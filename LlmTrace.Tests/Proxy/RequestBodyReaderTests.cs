using System.Text;
using LlmTrace.Domain.Proxy;
using Microsoft.AspNetCore.Http;

namespace LlmTrace.Tests.Proxy;

public sealed class RequestBodyReaderTests
{
    [Fact]
    public async Task DeclaredLength_DoesNotSizeTheBuffer_ArrivingBytesDo()
    {
        var context = new DefaultHttpContext();
        context.Request.ContentLength = 25 * 1024 * 1024; // declared, never sent
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes("""{"model":"gpt-4o"}"""));

        var read = await RequestBodyReader.ReadAsync(context, 26_214_400);

        Assert.Equal(RequestBodyOutcome.Read, read.Outcome);
        Assert.Equal(18, read.Length);
        Assert.InRange(read.Buffer!.Length, 18, 2 * RequestBodyReader.InitialBufferBytes);
        System.Buffers.ArrayPool<byte>.Shared.Return(read.Buffer);
    }

    [Fact]
    public async Task LargeBody_GrowsTheBufferAsItArrives_AndIsReadWhole()
    {
        var body = new byte[3 * 1024 * 1024 + 17];
        new Random(3).NextBytes(body);
        var context = new DefaultHttpContext();
        context.Request.ContentLength = body.Length;
        context.Request.Body = new MemoryStream(body);

        var read = await RequestBodyReader.ReadAsync(context, 26_214_400);

        Assert.Equal(RequestBodyOutcome.Read, read.Outcome);
        Assert.True(read.Buffer.AsSpan(0, read.Length).SequenceEqual(body));
        System.Buffers.ArrayPool<byte>.Shared.Return(read.Buffer!);
    }
}
