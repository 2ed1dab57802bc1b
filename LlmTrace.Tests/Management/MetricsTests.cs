using System.Diagnostics;
using System.Net;
using LlmTrace.Tests.Infrastructure;
using static LlmTrace.Tests.Proxy.StreamingTests;

namespace LlmTrace.Tests.Management;

/// <summary>
/// SelfHost's Prometheus scrape endpoint, read by Prometheus' own parser (<c>promtool check metrics</c>, installed by
/// scripts/test.sh from Debian's prometheus package): after a plain and a streamed call it has the GenAI and gateway series.
/// </summary>
public sealed class MetricsTests
{
    [Fact]
    public async Task Scrape_AfterAPlainAndAStreamedCall_PassesPromtool_AndHasTheGenAiAndGatewaySeries()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await using var gateway = await GatewayHost.StartAsync(upstream);
        using var http = gateway.CreateClient();
        var key = TestKeys.NewKey();
        using var plain = await http.SendAsync(Post("/v1/chat/completions", """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""", ("Authorization", "Bearer " + key)));
        using var streamed = await http.SendAsync(Post("/v1/chat/completions", """{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}""", ("Authorization", "Bearer " + key)));
        await streamed.Content.ReadAsStringAsync();
        await gateway.WaitForTraceAsync(TraceId(plain));
        var trace = await gateway.WaitForTraceAsync(TraceId(streamed));
        Assert.NotNull(trace.Cost); // priced, so the cost counter has moved

        using var scrape = await http.GetAsync("/metrics");
        var text = await scrape.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        foreach (var series in new[]
        {
            "gen_ai_client_token_usage_bucket{", "gen_ai_client_operation_duration_seconds_bucket{",
            "gen_ai_client_operation_time_to_first_chunk_seconds_bucket{", "llmtrace_gateway_requests_total{",
            "llmtrace_gateway_cost_usd_total{", "llmtrace_gateway_streams_open", "llmtrace_capture_queue_depth",
            "llmtrace_capture_journal_outstanding", "llmtrace_breaker_state{",
        })
        {
            Assert.Contains(series, text, StringComparison.Ordinal);
        }

        Assert.Contains("gen_ai_token_type=\"output\"", text, StringComparison.Ordinal);
        Assert.Contains("http_response_status_code_class=\"2xx\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("llmtrace_tenant_id", text, StringComparison.Ordinal); // off by default: one series per tenant
        var (code, output) = await PromtoolAsync(text);
        Assert.True(code == 0, output);
    }

    [Fact]
    public async Task Scrape_FollowsTheManagementApisAccessRule()
    {
        await using var gateway = await GatewayHost.StartAsync(null, new Dictionary<string, string?> { ["LlmTrace:AdminKey"] = "metrics-admin" });
        using var http = gateway.CreateClient();

        using var anonymous = await http.GetAsync("/metrics");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "metrics-admin");
        using var admin = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
    }

    [Fact]
    public async Task TelemetryOff_HasNoScrapeEndpoint()
    {
        await using var gateway = await GatewayHost.StartAsync(null, new Dictionary<string, string?> { ["LlmTrace:Telemetry:Enabled"] = "false" });
        using var http = gateway.CreateClient();

        using var scrape = await http.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.NotFound, scrape.StatusCode); // answered by the gateway's own 404 route
    }

    private static async Task<(int Code, string Output)> PromtoolAsync(string exposition)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("LLMTRACE_PROMTOOL") ?? "promtool")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add("check");
        start.ArgumentList.Add("metrics");
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("promtool is not installed. Run the tests with ./scripts/test.sh, which installs Debian's prometheus package.", ex);
        }

        using (process)
        {
            await process.StandardInput.WriteAsync(exposition);
            process.StandardInput.Close();
            var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, output);
        }
    }
}
