using System.Text;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Proxy;
using LlmTrace.Functions.Proxy;
using LlmTrace.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LlmTrace.Tests.Functions;

/// <summary>The accounting cases of <see cref="Costs.AccountingPrecisionTests"/>, through the Functions host's proxy and stages.</summary>
public sealed class FunctionsAccountingTests : IAsyncLifetime
{
    private const string Request = """{"model":"claude-sonnet-4-5","max_tokens":400,"messages":[{"role":"user","content":"Tell me a story about a lighthouse keeper"}]}""";
    private FakeUpstream _upstream = null!;
    private IHost _host = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _host = await FunctionsTestHost.StartAsync(_upstream);
    }

    public async Task DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task AnthropicCacheWrites_Json_PricedToTheMicroDollar()
    {
        var trace = await CallAsync(Request, """{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Once"}],"stop_reason":"end_turn","usage":{"input_tokens":50,"cache_creation_input_tokens":2000,"cache_read_input_tokens":0,"output_tokens":300}}""", "application/json");

        Assert.Equal(0.01215m, trace.Cost!.Total);
    }

    [Fact]
    public async Task AnthropicStream_WithOneHourWrites_AndACutStream_ArePriced()
    {
        var streamed = Request.Replace("{\"model\"", "{\"stream\":true,\"model\"", StringComparison.Ordinal);
        var complete = await CallAsync(streamed,
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-sonnet-4-5\",\"usage\":{\"input_tokens\":50,\"cache_creation_input_tokens\":2000,\"cache_read_input_tokens\":1000,\"cache_creation\":{\"ephemeral_5m_input_tokens\":1500,\"ephemeral_1h_input_tokens\":500},\"output_tokens\":1}}}\n\n"
            + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Once\"}}\n\n"
            + "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":300}}\n\n",
            "text/event-stream");
        var cut = await CallAsync(streamed,
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-sonnet-4-5\",\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n"
            + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"The keeper climbed the stairs and lit the lamp, again and again.\"}}\n\n",
            "text/event-stream");

        Assert.Equal(0.013575m, complete.Cost!.Total);
        Assert.True(cut.UsageEstimated);
        Assert.InRange(cut.CompletionTokens!.Value, 8, 20);
        Assert.Equal(((25 * 3m) + (cut.CompletionTokens.Value * 15m)) / 1_000_000m, cut.Cost!.Total);
    }

    private async Task<Trace> CallAsync(string request, string answer, string contentType)
    {
        var functions = new ProxyFunctions(_host.Services.GetRequiredService<GatewayProxy>());
        using var response = new MemoryStream();
        var context = FunctionRequests.Create(_host.Services, "POST", "/anthropic/v1/messages", request, response);
        context.Request.Headers["x-api-key"] = "sk-ant-functions";
        context.Request.Headers["x-fake-mode"] = "bytes:" + Convert.ToBase64String(Encoding.UTF8.GetBytes(answer));
        context.Request.Headers["x-fake-content-type"] = contentType;

        await functions.AnthropicAsync(context.Request);

        Assert.Equal(200, context.Response.StatusCode);
        var store = _host.Services.GetRequiredService<ITraceStore>();
        var id = Guid.Parse(context.Response.Headers["x-llmtrace-trace-id"]!);
        for (var i = 0; i < 500; i++)
        {
            if (await store.GetAsync(id, CancellationToken.None) is { Cost: not null } trace)
            {
                return trace;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"no priced trace {id}");
    }
}
