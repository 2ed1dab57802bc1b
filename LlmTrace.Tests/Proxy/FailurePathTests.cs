using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using LlmTrace.Domain.Capture;
using LlmTrace.Tests.Infrastructure;
using static LlmTrace.Tests.Proxy.StreamingTests;

namespace LlmTrace.Tests.Proxy;

/// <summary>Every failure gets a provider-shaped JSON error, a trace id header and a stored trace.</summary>
public sealed class FailurePathTests : IAsyncLifetime
{
    private const string ChatBody = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""";
    private FakeUpstream _upstream = null!;

    public async Task InitializeAsync() => _upstream = await FakeUpstream.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    [Fact]
    public async Task Forward_UpstreamUnreachable_Returns502InOpenAIShape()
    {
        await using var gateway = await GatewayHost.StartAsync(null, new Dictionary<string, string?> { ["LlmTrace:Upstreams:Default"] = $"http://127.0.0.1:{Ports.Free()}" });
        using var http = gateway.CreateClient();

        using var response = await http.SendAsync(Post("/v1/chat/completions", ChatBody));

        var trace = await AssertErrorAsync(gateway, response, HttpStatusCode.BadGateway, "upstream_error", "upstream_unreachable");
        Assert.Equal("gpt-4o-mini", trace.Model);
        Assert.Equal("user: hi", trace.Prompt);
    }

    [Fact]
    public async Task Stream_UpstreamResetBeforeItsFirstByte_Gets502InOpenAIShape_NotACutConnection()
    {
        await using var gateway = await GatewayHost.StartAsync(_upstream);
        using var http = gateway.CreateClient();

        using var response = await http.SendAsync(Post(
            "/v1/chat/completions", """{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}""", ("x-fake-mode", "reset-first")));

        var trace = await AssertErrorAsync(gateway, response, HttpStatusCode.BadGateway, "upstream_error", "upstream_stream_error");
        Assert.Equal(502, trace.StatusCode);
        Assert.True(trace.Streaming);
    }

    [Fact]
    public async Task RequestBytesHeldOverTheProcessCap_Get503WithRetryAfter_AndNothingIsForwarded()
    {
        await using var gateway = await GatewayHost.StartAsync(_upstream, new Dictionary<string, string?> { ["LlmTrace:Proxy:MaxBufferedRequestBytes"] = "1048576" });
        using var http = gateway.CreateClient();
        var big = $$"""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"{{new string('a', 2 * 1024 * 1024)}}"}]}""";

        using var refused = await http.SendAsync(Post("/v1/chat/completions", big));
        using var small = await http.SendAsync(Post("/v1/chat/completions", ChatBody));

        var trace = await AssertErrorAsync(gateway, refused, HttpStatusCode.ServiceUnavailable, "service_unavailable", "gateway_busy");
        Assert.Equal("1", refused.Headers.RetryAfter?.ToString());
        Assert.Equal(HttpStatusCode.OK, small.StatusCode); // the budget was given back
        Assert.DoesNotContain(_upstream.Requests, r => r.Body.Length > 1024 * 1024);
        Assert.Equal(503, trace.StatusCode);
    }

    [Fact]
    public async Task StalledRequestBody_Gets408InProviderShape_NeverA200()
    {
        await using var gateway = await GatewayHost.StartAsync(_upstream);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(gateway.BaseAddress.Host, gateway.BaseAddress.Port);
        var stream = tcp.GetStream();
        // Headers and 20 of the 1,000 declared bytes, then silence: under Kestrel's minimum request body data rate.
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST /v1/chat/completions HTTP/1.1\r\nHost: {gateway.BaseAddress.Authority}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"model\":\"gpt-4o\","));

        using var reader = new StreamReader(stream, Encoding.ASCII);
        var answer = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.StartsWith("HTTP/1.1 408", answer, StringComparison.Ordinal);
        Assert.Contains("\"code\":\"request_body_timeout\"", answer, StringComparison.Ordinal);
        var traceId = Guid.Parse(answer.Split("\r\n").Single(l => l.StartsWith("x-llmtrace-trace-id:", StringComparison.OrdinalIgnoreCase))[20..].Trim());
        var trace = await gateway.WaitForTraceAsync(traceId);
        Assert.Equal((408, "request_body_timeout", false), (trace.StatusCode, trace.Error, trace.ClientCancelled));
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Forward_UpstreamUnreachableOnAnthropicRoute_ReturnsAnthropicShape()
    {
        await using var gateway = await GatewayHost.StartAsync(null, new Dictionary<string, string?> { ["LlmTrace:Upstreams:Anthropic"] = $"http://127.0.0.1:{Ports.Free()}" });
        using var http = gateway.CreateClient();

        using var response = await http.SendAsync(Post("/anthropic/v1/messages", """{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[]}"""));

        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("error", json.RootElement.GetProperty("type").GetString());
        Assert.Equal("upstream_error", json.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(json.RootElement.GetProperty("error").GetProperty("message").GetString()));
    }

    [Fact]
    public async Task Forward_UpstreamSilentBeforeHeaders_Returns504AfterIdleTimeout()
    {
        await using var gateway = await GatewayHost.StartAsync(_upstream, new Dictionary<string, string?> { ["LlmTrace:Proxy:IdleTimeoutSeconds"] = "1" });
        using var http = gateway.CreateClient();

        using var response = await http.SendAsync(Post("/v1/chat/completions", ChatBody, ("x-fake-mode", "slow-headers")));

        await AssertErrorAsync(gateway, response, HttpStatusCode.GatewayTimeout, "timeout", "upstream_timeout");
    }

    [Fact]
    public async Task Forward_UpstreamStallsMidStream_ClientConnectionIsCutAndTraceKeepsThePartialResponse()
    {
        await using var gateway = await GatewayHost.StartAsync(_upstream, new Dictionary<string, string?> { ["LlmTrace:Proxy:IdleTimeoutSeconds"] = "1" });
        using var http = gateway.CreateClient();
        const string Body = """{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}""";

        using var response = await http.SendAsync(Post("/v1/chat/completions", Body, ("x-fake-mode", "stall-mid")), HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();
        var first = await ReadUntilAsync(stream, "\n\n", TimeSpan.FromSeconds(5));
        await Assert.ThrowsAnyAsync<IOException>(async () => await new StreamReader(stream).ReadToEndAsync());

        Assert.Contains("\"role\":\"assistant\"", first, StringComparison.Ordinal);
        var trace = await gateway.WaitForTraceAsync(TraceId(response));
        Assert.Equal("upstream_idle_timeout", trace.Error);
        Assert.Equal(200, trace.StatusCode);
        Assert.False(trace.ClientCancelled);
    }

    [Fact]
    public async Task Forward_BodyOverLimit_Returns413AndNothingReachesUpstream()
    {
        await using var gateway = await GatewayHost.StartAsync(_upstream, new Dictionary<string, string?> { ["LlmTrace:Proxy:MaxRequestBodyBytes"] = "2048" });
        using var http = gateway.CreateClient();
        var marker = Guid.NewGuid().ToString("N");
        var big = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":" """ + new string('a', 4000) + "\"}]}";

        using var withLength = await http.SendAsync(Post("/v1/chat/completions", big, ("x-test-marker", marker)));
        using var chunked = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StreamContent(new ChunkedOnly(Encoding.UTF8.GetBytes(big))) };
        chunked.Headers.TransferEncodingChunked = true;
        chunked.Headers.TryAddWithoutValidation("x-test-marker", marker);
        using var withoutLength = await http.SendAsync(chunked);

        await AssertErrorAsync(gateway, withLength, HttpStatusCode.RequestEntityTooLarge, "invalid_request_error", "request_too_large");
        await AssertErrorAsync(gateway, withoutLength, HttpStatusCode.RequestEntityTooLarge, "invalid_request_error", "request_too_large");
        Assert.DoesNotContain(_upstream.Requests, r => r.Header("x-test-marker") == marker);
    }

    [Fact]
    public async Task Forward_UnknownRoute_Returns404WithTrace()
    {
        await using var gateway = await GatewayHost.StartAsync(_upstream);
        using var http = gateway.CreateClient();

        using var response = await http.GetAsync("/v2/nothing-here.json");

        var trace = await AssertErrorAsync(gateway, response, HttpStatusCode.NotFound, "invalid_request_error", "route_not_found");
        Assert.Equal("unknown", trace.Provider);
        Assert.Equal("/v2/nothing-here.json", trace.Endpoint);
    }

    [Fact]
    public async Task Forward_AzureRouteWithoutUpstream_Returns503NamingTheSetting()
    {
        await using var gateway = await GatewayHost.StartAsync(null);
        using var http = gateway.CreateClient();

        using var response = await http.SendAsync(Post("/openai/deployments/x/chat/completions?api-version=2024-10-21", ChatBody));

        var trace = await AssertErrorAsync(gateway, response, HttpStatusCode.ServiceUnavailable, "upstream_not_configured", "upstream_not_configured");
        Assert.Equal("azure-openai", trace.Provider);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains("LlmTrace__Upstreams__AzureOpenAI", json.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Forward_ClientDisconnectsMidStream_UpstreamIsCancelledAndTraceKeepsPartialResponse()
    {
        await using var gateway = await GatewayHost.StartAsync(_upstream);
        var key = Guid.NewGuid().ToString("N");
        const string Body = """{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"go on forever"}]}""";
        Guid traceId;
        using (var http = gateway.CreateClient())
        {
            using var response = await http.SendAsync(Post("/v1/chat/completions", Body, ("x-fake-mode", "endless:" + key)), HttpCompletionOption.ResponseHeadersRead);
            traceId = TraceId(response);
            var stream = await response.Content.ReadAsStreamAsync();
            await ReadUntilAsync(stream, "more", TimeSpan.FromSeconds(5));
        }

        await _upstream.Cancelled(key).WaitAsync(TimeSpan.FromSeconds(10));
        var trace = await gateway.WaitForTraceAsync(traceId);
        Assert.True(trace.ClientCancelled);
        Assert.StartsWith("more ", trace.Response, StringComparison.Ordinal);
        Assert.True(trace.ResponseBytes > 0);
    }

    [Fact]
    public async Task Forward_UpstreamErrorStatus_IsPassedThroughAndRecorded()
    {
        await using var gateway = await GatewayHost.StartAsync(_upstream);
        using var http = gateway.CreateClient();

        using var response = await http.SendAsync(Post("/v1/unknown-endpoint", ChatBody));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("""{"error":{"message":"fake: no such path","type":"invalid_request_error","code":"not_found"}}""", await response.Content.ReadAsStringAsync());
        var trace = await gateway.WaitForTraceAsync(TraceId(response));
        Assert.Equal("upstream_status_404: fake: no such path", trace.Error);
        Assert.Null(trace.Response);
    }

    private static async Task<Trace> AssertErrorAsync(GatewayHost gateway, HttpResponseMessage response, HttpStatusCode status, string type, string code)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = json.RootElement.GetProperty("error");
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        var trace = await gateway.WaitForTraceAsync(TraceId(response));
        Assert.Equal((int)status, trace.StatusCode);
        Assert.Equal(code, trace.Error);
        return trace;
    }

    /// <summary>A stream whose length is unknown, so the client must send the body chunked.</summary>
    private sealed class ChunkedOnly(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
