using System.Net;
using System.Text;
using LlmTrace.Tests.Infrastructure;

namespace LlmTrace.Tests.Capture;

/// <summary>Whatever an upstream answers, the call the client got is recorded and billed, and impossible usage is never billed.</summary>
public sealed class HostileUpstreamTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private const string Request = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello in a few words"}]}""";

    [Fact]
    public async Task InvalidUtf8_InAJsonAnswer_IsPassedThrough_TracedAndBilled()
    {
        var body = Bytes("""{"id":"c1","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"caf#!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":4,"total_tokens":16}}""");

        var (reply, bytes, trace) = await CallAsync(body, "application/json");

        Assert.Equal(HttpStatusCode.OK, reply);
        Assert.Equal(body, bytes); // the client gets the upstream's bytes as sent
        Assert.Equal("caf\uFFFD!", trace.Response);
        Assert.Contains("UTF-8", trace.ParseError, StringComparison.Ordinal);
        Assert.Equal((12, 4, false), (trace.PromptTokens, trace.CompletionTokens, trace.UsageEstimated));
        Assert.True(trace.Cost!.Total > 0);
    }

    [Fact]
    public async Task InvalidUtf8_InAStream_IsPassedThrough_TracedAndBilled()
    {
        var body = Bytes(
            "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ol#\"}}]}\n\n"
            + "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},\"finish_reason\":\"stop\"}]}\n\n"
            + "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,\"total_tokens\":11}}\n\n"
            + "data: [DONE]\n\n");

        var (reply, bytes, trace) = await CallAsync(body, "text/event-stream");

        Assert.Equal(HttpStatusCode.OK, reply);
        Assert.Equal(body, bytes);
        Assert.Equal("ol\uFFFDa", trace.Response);
        Assert.Equal((9, 2), (trace.PromptTokens, trace.CompletionTokens));
        Assert.True(trace.Cost!.Total > 0);
    }

    [Theory]
    [InlineData("""{"prompt_tokens":-1000000000,"completion_tokens":5,"total_tokens":-999999995}""")]
    [InlineData("""{"prompt_tokens":10,"completion_tokens":2000000000,"total_tokens":2000000010}""")]
    [InlineData("""{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":900}}""")]
    public async Task ImpossibleUsage_IsDiscarded_AndTheCallEstimatedInstead(string usage)
    {
        var body = Bytes($$"""{"id":"c1","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there, friend"},"finish_reason":"stop"}],"usage":{{usage}}}""");

        var (reply, _, trace) = await CallAsync(body, "application/json");

        Assert.Equal(HttpStatusCode.OK, reply);
        Assert.True(trace.UsageInvalid);
        Assert.True(trace.UsageEstimated);
        Assert.InRange(trace.PromptTokens!.Value, 1, 100);
        Assert.InRange(trace.CompletionTokens!.Value, 1, 20);
        Assert.Null(trace.CachedPromptTokens);
        Assert.InRange(trace.Cost!.Total, 0.0000001m, 0.001m);
    }

    /// <summary>The UTF-8 of <paramref name="text"/> with each '#' replaced by the invalid byte 0xFF.</summary>
    private static byte[] Bytes(string text) => [.. Encoding.UTF8.GetBytes(text).Select(b => b == (byte)'#' ? (byte)0xFF : b)];

    private async Task<(HttpStatusCode Status, byte[] Body, LlmTrace.Domain.Capture.Trace Trace)> CallAsync(byte[] answer, string contentType)
    {
        using var http = fixture.Gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(Request, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer sk-test");
        request.Headers.TryAddWithoutValidation("x-fake-mode", "bytes:" + Convert.ToBase64String(answer));
        request.Headers.TryAddWithoutValidation("x-fake-content-type", contentType);
        using var response = await http.SendAsync(request);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var trace = await fixture.Gateway.WaitForTraceAsync(Guid.Parse(response.Headers.GetValues("x-llmtrace-trace-id").Single()));
        return (response.StatusCode, bytes, trace);
    }
}
