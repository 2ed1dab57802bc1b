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

        var budget = Budget(64 * 1024 * 1024);
        var read = await RequestBodyReader.ReadAsync(context, 26_214_400, budget);

        Assert.Equal(RequestBodyOutcome.Read, read.Outcome);
        Assert.Equal(18, read.Length);
        Assert.InRange(read.Buffer!.Length, 18, 2 * RequestBodyReader.InitialBufferBytes);
        Assert.Equal(read.Buffer.Length, budget.Held);
        RequestBodyReader.Return(read.Buffer, budget);
        Assert.Equal(0, budget.Held);
    }

    [Fact]
    public async Task LargeBody_GrowsTheBufferAsItArrives_AndIsReadWhole()
    {
        var body = new byte[3 * 1024 * 1024 + 17];
        new Random(3).NextBytes(body);
        var context = new DefaultHttpContext();
        context.Request.ContentLength = body.Length;
        context.Request.Body = new MemoryStream(body);

        var budget = Budget(64 * 1024 * 1024);
        var read = await RequestBodyReader.ReadAsync(context, 26_214_400, budget);

        Assert.Equal(RequestBodyOutcome.Read, read.Outcome);
        Assert.True(read.Buffer.AsSpan(0, read.Length).SequenceEqual(body));
        RequestBodyReader.Return(read.Buffer!, budget);
        Assert.Equal(0, budget.Held);
    }

    [Fact]
    public async Task ProcessWideCap_Reached_RefusesTheBody_AndGivesEveryByteBack()
    {
        var budget = Budget(2 * 1024 * 1024);
        Assert.True(budget.TryReserve(1024 * 1024)); // another call holds half
        var context = new DefaultHttpContext();
        context.Request.Body = new MemoryStream(new byte[3 * 1024 * 1024]);

        var read = await RequestBodyReader.ReadAsync(context, 26_214_400, budget);

        Assert.Equal(RequestBodyOutcome.OverCapacity, read.Outcome);
        Assert.Null(read.Buffer);
        Assert.Equal(1024 * 1024, budget.Held);
    }

    private static RequestMemoryBudget Budget(long bytes) => new(Microsoft.Extensions.Options.Options.Create(new ProxyOptions { MaxBufferedRequestBytes = bytes }));
}
