using System.Net;
using System.Net.Http.Headers;
using System.Text;
using LlmTrace.Tests.Infrastructure;

namespace LlmTrace.Tests.Proxy;

/// <summary>The proxy is invisible: what the client sends reaches the upstream as sent, and what comes back reaches the client as sent.</summary>
public sealed class TransparencyTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    [Fact]
    public async Task Forward_ArbitraryRequest_ReachesUpstreamByteForByte()
    {
        var marker = Guid.NewGuid().ToString("N");
        var body = Enumerable.Range(0, 3000).Select(i => (byte)(i * 7 % 256)).ToArray();
        using var http = fixture.Gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Put, "/v1/files/some%20thing/part:2?b=2&a=%2F1&a=3&empty=")
        {
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "sk-" + marker);
        request.Headers.TryAddWithoutValidation("x-test-marker", marker);
        request.Headers.TryAddWithoutValidation("OpenAI-Organization", "org-123");
        request.Headers.TryAddWithoutValidation("User-Agent", "custom-agent/1.0 (x)");
        request.Headers.TryAddWithoutValidation("x-fake-mode", "raw");
        request.Headers.TryAddWithoutValidation("X-LLMTrace-Agent-ID", "billing-bot");

        using var response = await http.SendAsync(request);

        var received = fixture.Upstream.Find("x-test-marker", marker);
        Assert.Equal("PUT", received.Method);
        Assert.Equal("/v1/files/some%20thing/part:2?b=2&a=%2F1&a=3&empty=", received.PathAndQuery);
        Assert.Equal(body, received.Body);
        Assert.Equal("Bearer sk-" + marker, received.Header("Authorization"));
        Assert.Equal("org-123", received.Header("OpenAI-Organization"));
        Assert.Equal("custom-agent/1.0 (x)", received.Header("User-Agent"));
        Assert.Equal("application/octet-stream", received.Header("Content-Type"));
        Assert.Equal("3000", received.Header("Content-Length"));
        Assert.Null(received.Header("X-LLMTrace-Agent-ID"));
        Assert.Equal(fixture.Upstream.BaseAddress.Authority, received.Header("Host"));

        Assert.Equal((HttpStatusCode)207, response.StatusCode);
        Assert.Equal("1", response.Headers.GetValues("x-upstream-one").Single());
        Assert.Equal(["a", "b"], response.Headers.GetValues("x-upstream-multi"));
        Assert.Equal("42", response.Headers.GetValues("openai-processing-ms").Single());
        Assert.Equal(4096, response.Content.Headers.ContentLength);
        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType?.ToString());
        var expected = Enumerable.Range(0, 4096).Select(i => (byte)(i * 31 % 251)).ToArray();
        Assert.Equal(expected, await response.Content.ReadAsByteArrayAsync());
        Assert.True(Guid.TryParse(response.Headers.GetValues("x-llmtrace-trace-id").Single(), out var traceId));

        var trace = await fixture.Gateway.WaitForTraceAsync(traceId);
        Assert.Equal("billing-bot", trace.AgentId);
        Assert.Equal(3000, trace.RequestBytes);
        Assert.Equal(4096, trace.ResponseBytes);
        Assert.Equal(207, trace.StatusCode);
        Assert.NotNull(trace.ParseError); // not JSON: forwarded untouched, noted on the trace
    }

    [Fact]
    public async Task Forward_MalformedJsonBody_IsForwardedUntouchedAndTraceSaysSo()
    {
        var marker = Guid.NewGuid().ToString("N");
        const string Body = """{"model":"gpt-4o","messages":[{"role":"user","content":"unterminated""";
        using var http = fixture.Gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent(Body, Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("x-test-marker", marker);

        using var response = await http.SendAsync(request);

        Assert.Equal(Body, fixture.Upstream.Find("x-test-marker", marker).BodyText);
        var trace = await fixture.Gateway.WaitForTraceAsync(Guid.Parse(response.Headers.GetValues("x-llmtrace-trace-id").Single()));
        Assert.StartsWith("request body is not valid JSON", trace.ParseError, StringComparison.Ordinal);
        Assert.Equal(200, trace.StatusCode);
    }

    [Fact]
    public async Task Forward_CompressedResponse_IsPassedThroughCompressedAndStillParsed()
    {
        using var http = fixture.Gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"zip it"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("x-fake-mode", "gzip");
        request.Headers.AcceptEncoding.ParseAdd("gzip");

        using var response = await http.SendAsync(request);

        Assert.Equal("gzip", response.Content.Headers.ContentEncoding.Single());
        Assert.Equal(FakeUpstream.GzipBody, await response.Content.ReadAsByteArrayAsync());
        var trace = await fixture.Gateway.WaitForTraceAsync(Guid.Parse(response.Headers.GetValues("x-llmtrace-trace-id").Single()));
        Assert.Equal("zipped hello", trace.Response);
        Assert.Equal(5, trace.TotalTokens);
    }

    [Fact]
    public async Task Forward_TenantHeader_WinsOverApiKeyAndIsNotForwarded()
    {
        var tenant = Guid.NewGuid();
        var marker = Guid.NewGuid().ToString("N");
        using var http = fixture.Gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("X-LLMTrace-Tenant-ID", tenant.ToString());
        request.Headers.TryAddWithoutValidation("x-test-marker", marker);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "sk-anything");

        using var response = await http.SendAsync(request);

        Assert.Null(fixture.Upstream.Find("x-test-marker", marker).Header("X-LLMTrace-Tenant-ID"));
        var trace = Assert.Single(await fixture.Gateway.WaitForTenantTracesAsync(tenant, 1));
        Assert.Equal(tenant, trace.TenantId);
    }

    [Fact]
    public async Task Forward_ResponseLargerThanCaptureLimit_StreamsEveryByteAndReadsUsageFromTheKeptTail()
    {
        const int Padding = 3 * 1024 * 1024;
        using var http = fixture.Gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/embeddings")
        {
            Content = new StringContent("""{"model":"text-embedding-3-small","input":["a","b"]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("x-fake-mode", "large:" + Padding);

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        long received = 0;
        var buffer = new byte[64 * 1024];
        await using (var stream = await response.Content.ReadAsStreamAsync())
        {
            int read;
            while ((read = await stream.ReadAsync(buffer)) > 0)
            {
                received += read;
            }
        }

        Assert.True(received > Padding);
        var trace = await fixture.Gateway.WaitForTraceAsync(Guid.Parse(response.Headers.GetValues("x-llmtrace-trace-id").Single()));
        Assert.True(trace.CaptureTruncated);
        Assert.Equal(received, trace.ResponseBytes);
        Assert.Equal((5, 0, 5), (trace.PromptTokens, trace.CompletionTokens, trace.TotalTokens));
        Assert.False(trace.UsageEstimated);
    }
}
