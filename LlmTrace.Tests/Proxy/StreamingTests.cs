using System.Net.Http.Headers;
using System.Text;
using LlmTrace.Domain.Capture;
using LlmTrace.Tests.Infrastructure;
using Microsoft.ML.Tokenizers;

namespace LlmTrace.Tests.Proxy;

/// <summary>SSE reaches the client event by event, and streamed calls are priced from real usage.</summary>
public sealed class StreamingTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private const string StreamingBody = """{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Count to three"}]}""";

    [Fact]
    public async Task Stream_UpstreamPausesMidStream_ClientAlreadyHasFirstEvent()
    {
        var key = Guid.NewGuid().ToString("N");
        using var http = fixture.Gateway.CreateClient();
        using var request = Post("/v1/chat/completions", StreamingBody, ("x-fake-mode", "pause:" + key));

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();
        var firstEvent = await ReadUntilAsync(stream, "\n\n", TimeSpan.FromSeconds(5));

        // The upstream is still paused: whatever the client holds now was streamed, not buffered.
        Assert.Contains("\"role\":\"assistant\"", firstEvent, StringComparison.Ordinal);
        Assert.DoesNotContain("Hello", firstEvent, StringComparison.Ordinal);
        fixture.Upstream.Release(key);
        var rest = await new StreamReader(stream).ReadToEndAsync();
        Assert.Contains("data: [DONE]", rest, StringComparison.Ordinal);
        var trace = await fixture.Gateway.WaitForTraceAsync(TraceId(response));
        Assert.Equal("Hello world!", trace.Response);
        Assert.True(trace.TtftMs < trace.DurationMs);
    }

    [Fact]
    public async Task Stream_ClientDidNotAskForUsage_GatewayAddsItUpstreamAndClientSeesTheOriginalStream()
    {
        var marker = Guid.NewGuid().ToString("N");
        using var http = fixture.Gateway.CreateClient();
        using var direct = new HttpClient { BaseAddress = fixture.Upstream.BaseAddress };

        using var viaGateway = await http.SendAsync(Post("/v1/chat/completions", StreamingBody, ("x-test-marker", marker)));
        using var straight = await direct.SendAsync(Post("/v1/chat/completions", StreamingBody));
        var gatewayBytes = await viaGateway.Content.ReadAsByteArrayAsync();
        var directBytes = await straight.Content.ReadAsByteArrayAsync();

        Assert.Equal(Encoding.UTF8.GetString(directBytes), Encoding.UTF8.GetString(gatewayBytes));
        Assert.Equal(directBytes, gatewayBytes);
        Assert.True(viaGateway.Headers.TransferEncodingChunked);
        var upstreamBody = fixture.Upstream.Find("x-test-marker", marker).BodyText;
        Assert.Equal(StreamingBody[..^1] + ""","stream_options":{"include_usage":true}}""", upstreamBody);
        var trace = await fixture.Gateway.WaitForTraceAsync(TraceId(viaGateway));
        Assert.True(trace.UsageInjected);
        Assert.False(trace.UsageEstimated);
        Assert.Equal((21, 4, 25), (trace.PromptTokens, trace.CompletionTokens, trace.TotalTokens));
        Assert.Equal(gatewayBytes.Length, trace.ResponseBytes);
    }

    [Fact]
    public async Task Stream_UpstreamRefusesStreamOptions_ClientsOwnBodyIsResentAndUsageIsEstimated()
    {
        var marker = Guid.NewGuid().ToString("N");
        using var http = fixture.Gateway.CreateClient();

        using var response = await http.SendAsync(Post("/v1/chat/completions", StreamingBody, ("x-fake-mode", "reject-stream-options"), ("x-test-marker", marker)));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("data: [DONE]", text, StringComparison.Ordinal);
        var sent = fixture.Upstream.Requests.Where(r => r.Header("x-test-marker") == marker).Select(r => r.BodyText).ToList();
        Assert.Equal(2, sent.Count);
        Assert.Contains("stream_options", sent[0], StringComparison.Ordinal);
        Assert.Equal(StreamingBody, sent[1]);
        var trace = await fixture.Gateway.WaitForTraceAsync(TraceId(response));
        Assert.False(trace.UsageInjected);
        Assert.True(trace.UsageEstimated);
        Assert.Equal("Hello world!", trace.Response);
    }

    [Fact]
    public async Task Stream_OtherBadRequestAfterInjection_IsPassedThroughUnchangedAndNotRetried()
    {
        var marker = Guid.NewGuid().ToString("N");
        using var http = fixture.Gateway.CreateClient();

        using var response = await http.SendAsync(Post("/v1/chat/completions", StreamingBody, ("x-fake-mode", "bad-request"), ("x-test-marker", marker)));

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("""{"error":{"message":"max_tokens is too large","type":"invalid_request_error","code":"invalid_value"}}""", await response.Content.ReadAsStringAsync());
        Assert.Single(fixture.Upstream.Requests, r => r.Header("x-test-marker") == marker);
    }

    [Fact]
    public async Task Stream_ClientAskedForUsage_BodyAndStreamAreUntouched()
    {
        const string Body = """{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"x"}]}""";
        var marker = Guid.NewGuid().ToString("N");
        using var http = fixture.Gateway.CreateClient();

        using var response = await http.SendAsync(Post("/v1/chat/completions", Body, ("x-test-marker", marker)));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(Body, fixture.Upstream.Find("x-test-marker", marker).BodyText);
        Assert.Contains("\"choices\":[],\"usage\":{\"prompt_tokens\":21", text, StringComparison.Ordinal);
        Assert.Contains("\"usage\":null", text, StringComparison.Ordinal);
        var trace = await fixture.Gateway.WaitForTraceAsync(TraceId(response));
        Assert.False(trace.UsageInjected);
        Assert.Equal(25, trace.TotalTokens);
    }

    [Fact]
    public async Task Stream_UpstreamReportsNoUsage_TokensAreCountedWithTheModelsTokenizer()
    {
        using var http = fixture.Gateway.CreateClient();

        using var response = await http.SendAsync(Post("/v1/chat/completions", StreamingBody, ("x-fake-mode", "no-usage")));
        await response.Content.ReadAsStringAsync();

        var trace = await fixture.Gateway.WaitForTraceAsync(TraceId(response));
        var o200k = TiktokenTokenizer.CreateForModel("gpt-4o-mini");
        Assert.True(trace.UsageEstimated);
        Assert.Equal(o200k.CountTokens("Hello world!"), trace.CompletionTokens);
        Assert.Equal(o200k.CountTokens("user: Count to three") + 3 + 3, trace.PromptTokens);
        Assert.Equal(trace.PromptTokens + trace.CompletionTokens, trace.TotalTokens);
    }

    [Fact]
    public async Task Stream_GeminiSseAndJsonArray_AreAssembled()
    {
        using var http = fixture.Gateway.CreateClient();
        const string Body = """{"systemInstruction":{"parts":[{"text":"be nice"}]},"contents":[{"role":"user","parts":[{"text":"Say hi in French"}]}]}""";

        using var sse = await http.SendAsync(Post("/gemini/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse", Body, ("x-goog-api-key", "g-key")));
        using var array = await http.SendAsync(Post("/gemini/v1beta/models/gemini-2.0-flash:streamGenerateContent", Body, ("x-goog-api-key", "g-key")));
        using var json = await http.SendAsync(Post("/gemini/v1beta/models/gemini-2.0-flash:generateContent", Body, ("x-goog-api-key", "g-key")));

        foreach (var response in new[] { sse, array, json })
        {
            await response.Content.ReadAsStringAsync();
            var trace = await fixture.Gateway.WaitForTraceAsync(TraceId(response));
            Assert.Equal(("gemini", "gemini-2.0-flash", "generate_content"), (trace.Provider, trace.Model, trace.Operation));
            Assert.Equal("Bonjour le monde", trace.Response);
            Assert.Equal("system: be nice\nuser: Say hi in French", trace.Prompt);
            Assert.Equal((8, 4, 12), (trace.PromptTokens, trace.CompletionTokens, trace.TotalTokens));
            Assert.Equal("get_time", Assert.Single(trace.ToolCalls).Name);
            Assert.Equal("STOP", trace.FinishReason);
        }
    }

    internal static HttpRequestMessage Post(string path, string body, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    internal static Guid TraceId(HttpResponseMessage response) => Guid.Parse(response.Headers.GetValues("x-llmtrace-trace-id").Single());

    internal static async Task<string> ReadUntilAsync(Stream stream, string terminator, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var text = new StringBuilder();
        var buffer = new byte[1024];
        while (!text.ToString().Contains(terminator, StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, cts.Token);
            if (read == 0)
            {
                break;
            }

            text.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }

        return text.ToString();
    }
}
