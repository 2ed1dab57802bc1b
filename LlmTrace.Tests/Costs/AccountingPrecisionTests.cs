using System.Net;
using System.Text;
using LlmTrace.Domain.Capture;
using LlmTrace.Tests.Infrastructure;

namespace LlmTrace.Tests.Costs;

/// <summary>Provider answers in their documented shapes, priced by hand from the catalog, through the gateway.</summary>
public sealed class AccountingPrecisionTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private const string AnthropicRequest = """{"model":"claude-sonnet-4-5","max_tokens":400,"messages":[{"role":"user","content":"Tell me a story about a lighthouse keeper"}]}""";

    [Fact]
    public async Task AnthropicCacheWrites_Json_ArePricedAtTheCacheWriteRates()
    {
        var answer = """{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Once upon a time"}],"stop_reason":"end_turn","usage":{"input_tokens":50,"cache_creation_input_tokens":2000,"cache_read_input_tokens":0,"output_tokens":300}}""";

        var trace = await CallAsync("/anthropic/v1/messages", AnthropicRequest, answer, "application/json");

        Assert.Equal((2050, 300, 2000, (int?)null), (trace.PromptTokens, trace.CompletionTokens, trace.CacheWriteTokens, trace.CacheWrite1hTokens));
        Assert.Equal(0.01215m, trace.Cost!.Total);
        Assert.Equal(0.0075m, trace.Cost.CacheWrite);
    }

    [Fact]
    public async Task AnthropicOneHourCacheWrites_Stream_ArePricedAtTwiceInput()
    {
        var answer = Sse(
            ("message_start", """{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"usage":{"input_tokens":50,"cache_creation_input_tokens":2000,"cache_read_input_tokens":1000,"cache_creation":{"ephemeral_5m_input_tokens":1500,"ephemeral_1h_input_tokens":500},"output_tokens":1}}}"""),
            ("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"""),
            ("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Once upon a time"}}"""),
            ("content_block_stop", """{"type":"content_block_stop","index":0}"""),
            ("message_delta", """{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":300}}"""),
            ("message_stop", """{"type":"message_stop"}"""));

        var trace = await CallAsync("/anthropic/v1/messages", AnthropicRequest.Replace("{\"model\"", "{\"stream\":true,\"model\"", StringComparison.Ordinal), answer, "text/event-stream");

        Assert.Equal((3050, 300, 2000, (int?)500, false), (trace.PromptTokens, trace.CompletionTokens, trace.CacheWriteTokens, trace.CacheWrite1hTokens, trace.UsageEstimated));
        Assert.Equal(0.013575m, trace.Cost!.Total);
    }

    [Fact]
    public async Task AnthropicStream_CutBeforeItsFinalUsage_HasItsOutputEstimated()
    {
        var text = string.Join(' ', Enumerable.Repeat("The keeper climbed the stairs and lit the lamp.", 6));
        var answer = Sse(
            ("message_start", """{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"usage":{"input_tokens":25,"output_tokens":1}}}"""),
            ("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"""),
            ("content_block_delta", $$$"""{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"{{{text}}}"}}"""));

        var trace = await CallAsync("/anthropic/v1/messages", AnthropicRequest.Replace("{\"model\"", "{\"stream\":true,\"model\"", StringComparison.Ordinal), answer, "text/event-stream");

        Assert.True(trace.UsageEstimated);
        Assert.Equal(25, trace.PromptTokens); // the opening figure is kept
        Assert.InRange(trace.CompletionTokens!.Value, 50, 90); // about 66 tokens streamed, not the placeholder 1
        Assert.Equal(Math.Round(((25 * 3m) + (trace.CompletionTokens.Value * 15m)) / 1_000_000m, 9), Math.Round(trace.Cost!.Total, 9));
    }

    [Fact]
    public async Task GeminiToolUsePromptTokens_AreBilledAsInput()
    {
        var answer = """{"candidates":[{"content":{"role":"model","parts":[{"text":"It is sunny."}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":100,"toolUsePromptTokenCount":400,"candidatesTokenCount":20,"totalTokenCount":520},"modelVersion":"gemini-2.5-flash"}""";

        var trace = await CallAsync("/gemini/v1beta/models/gemini-2.5-flash:generateContent", """{"contents":[{"role":"user","parts":[{"text":"weather?"}]}]}""", answer, "application/json");

        Assert.Equal((500, 20, 520), (trace.PromptTokens, trace.CompletionTokens, trace.TotalTokens));
        Assert.Equal(((500 * 0.30m) + (20 * 2.50m)) / 1_000_000m, trace.Cost!.Total);
    }

    [Fact]
    public async Task ModelExtendingAListedName_IsUnpriced_NotPricedAsTheShorterOne()
    {
        var answer = """{"id":"c1","object":"chat.completion","model":"o3-mini-high","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}""";

        var trace = await CallAsync("/v1/chat/completions", """{"model":"o3-mini-high","messages":[{"role":"user","content":"hi"}]}""", answer, "application/json");

        Assert.False(trace.Priced);
        Assert.Null(trace.Cost);
    }

    [Fact]
    public async Task ReconciliationReport_CountsCallsTokensAndCostPerProviderAndModel()
    {
        var key = "sk-reconcile-" + Guid.NewGuid().ToString("N");
        var cached = """{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","usage":{"input_tokens":50,"cache_creation_input_tokens":2000,"cache_read_input_tokens":0,"output_tokens":300}}""";
        var unpriced = """{"id":"c1","object":"chat.completion","model":"o3-mini-high","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}""";

        var first = await CallAsync("/anthropic/v1/messages", AnthropicRequest, cached, "application/json", key);
        await CallAsync("/anthropic/v1/messages", AnthropicRequest, cached, "application/json", key);
        await CallAsync("/v1/chat/completions", """{"model":"o3-mini-high","messages":[{"role":"user","content":"hi"}]}""", unpriced, "application/json", key);
        var report = await new ApiClient(fixture.Gateway.CreateClient()).GetAsync($"/api/reports/reconciliation?tenantId={first.TenantId}");

        Assert.Equal(HttpStatusCode.OK, report.Status);
        var rows = report.Json.GetProperty("rows").EnumerateArray().ToList();
        var claude = rows.Single(r => r.GetProperty("model").GetString() == "claude-sonnet-4-5-20250929");
        Assert.Equal(("anthropic", 2, 4100, 4000, 600), (claude.GetProperty("provider").GetString(), claude.GetProperty("calls").GetInt32(), claude.GetProperty("promptTokens").GetInt32(), claude.GetProperty("cacheWriteTokens").GetInt32(), claude.GetProperty("completionTokens").GetInt32()));
        Assert.Equal(0.0243m, claude.GetProperty("costUsd").GetDecimal());
        var other = rows.Single(r => r.GetProperty("model").GetString() == "o3-mini-high");
        Assert.Equal((1, 1), (other.GetProperty("calls").GetInt32(), other.GetProperty("unpricedCalls").GetInt32()));
        Assert.Equal(0.0243m, report.Json.GetProperty("totalUsd").GetDecimal());
    }

    private static string Sse(params (string Event, string Data)[] events)
        => string.Concat(events.Select(e => $"event: {e.Event}\ndata: {e.Data}\n\n"));

    private async Task<Trace> CallAsync(string path, string request, string answer, string contentType, string key = "sk-test")
    {
        using var http = fixture.Gateway.CreateClient();
        using var message = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(request, Encoding.UTF8, "application/json") };
        message.Headers.TryAddWithoutValidation("x-api-key", key);
        message.Headers.TryAddWithoutValidation("x-goog-api-key", "gemini-test");
        message.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        message.Headers.TryAddWithoutValidation("x-fake-mode", "bytes:" + Convert.ToBase64String(Encoding.UTF8.GetBytes(answer)));
        message.Headers.TryAddWithoutValidation("x-fake-content-type", contentType);
        using var response = await http.SendAsync(message);
        await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await fixture.Gateway.WaitForTraceAsync(Guid.Parse(response.Headers.GetValues("x-llmtrace-trace-id").Single()));
    }
}
