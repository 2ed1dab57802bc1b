using System.Net;
using System.Text;
using System.Text.Json;
using LlmTrace.Domain.Budgets;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Management;
using LlmTrace.Domain.Proxy;
using LlmTrace.Functions.Management;
using LlmTrace.Functions.Proxy;
using LlmTrace.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LlmTrace.Tests.Functions;

/// <summary>
/// The Functions host's classes called directly (no Functions runtime here) with a <see cref="DefaultHttpContext"/>,
/// over the same service registrations <c>Program.cs</c> uses, against a loopback upstream.
/// </summary>
public sealed class FunctionsHostTests : IAsyncLifetime
{
    private FakeUpstream _upstream = null!;
    private IHost _host = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _host = await FunctionsTestHost.StartAsync(_upstream, new Dictionary<string, string?> { ["LlmTrace:AdminKey"] = "fn-admin" });
    }

    public async Task DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task ProxyOpenAI_StreamingChat_StreamsEachEventBeforeTheUpstreamFinishes()
    {
        var functions = new ProxyFunctions(_host.Services.GetRequiredService<GatewayProxy>());
        var key = Guid.NewGuid().ToString("N");
        var recorder = new RecordingStream();
        var context = NewContext("POST", "/v1/chat/completions", """{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}""", recorder);
        context.Request.Headers["x-fake-mode"] = "pause:" + key;

        var call = functions.OpenAIAsync(context.Request);
        await recorder.FirstWrite.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Contains("\"role\":\"assistant\"", recorder.Text, StringComparison.Ordinal);
        Assert.False(call.IsCompleted);
        _upstream.Release(key);
        await call.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(200, context.Response.StatusCode);
        Assert.EndsWith("data: [DONE]\n\n", recorder.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("\"usage\"", recorder.Text, StringComparison.Ordinal);
        var trace = await WaitForTraceAsync(Guid.Parse(context.Response.Headers["x-llmtrace-trace-id"]!));
        Assert.Equal("Hello world!", trace.Response);
        Assert.Equal(25, trace.TotalTokens);
        Assert.True(trace.UsageInjected);
    }

    [Fact]
    public async Task ProxyAnthropic_Json_ForwardsAndRecords()
    {
        var functions = new ProxyFunctions(_host.Services.GetRequiredService<GatewayProxy>());
        var recorder = new RecordingStream();
        var context = NewContext("POST", "/anthropic/v1/messages", """{"model":"claude-sonnet-4-5","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""", recorder);
        context.Request.Headers["x-api-key"] = "sk-ant-fn";

        await functions.AnthropicAsync(context.Request);

        Assert.Equal(200, context.Response.StatusCode);
        Assert.Contains("Hello from fake claude", recorder.Text, StringComparison.Ordinal);
        var trace = await WaitForTraceAsync(Guid.Parse(context.Response.Headers["x-llmtrace-trace-id"]!));
        Assert.Equal(("anthropic", 22), (trace.Provider, trace.TotalTokens));
    }

    [Fact]
    public async Task ProxyAzureOpenAI_NoUpstreamConfigured_Returns503()
    {
        var functions = new ProxyFunctions(_host.Services.GetRequiredService<GatewayProxy>());
        var recorder = new RecordingStream();
        var context = NewContext("POST", "/openai/deployments/d/chat/completions", "{}", recorder);

        await functions.AzureOpenAIAsync(context.Request);

        Assert.Equal(503, context.Response.StatusCode);
        using var json = JsonDocument.Parse(recorder.Text);
        Assert.Equal("upstream_not_configured", json.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task NotFound_AnyOtherPath_Returns404()
    {
        var functions = new ProxyFunctions(_host.Services.GetRequiredService<GatewayProxy>());
        var recorder = new RecordingStream();
        var context = NewContext("GET", "/nope", null, recorder);

        await functions.NotFoundAsync(context.Request);

        Assert.Equal(404, context.Response.StatusCode);
        Assert.Contains("route_not_found", recorder.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BudgetTimer_InProcessTransport_RunsWithNothingToReplay()
    {
        var ledger = _host.Services.GetRequiredService<ISpendLedger>();
        var tenant = Guid.NewGuid();
        await ledger.ApplyAsync([new SpendEntry(Guid.NewGuid(), tenant, null, DateTimeOffset.UtcNow.AddDays(-40), 1m, 1)], TimeProvider.System, CancellationToken.None);

        await _host.Services.GetRequiredService<LlmTrace.Functions.Budgets.BudgetTimerFunction>().RunAsync(null!, CancellationToken.None);

        Assert.DoesNotContain(await ledger.GetEndedOpenWindowsAsync(DateTimeOffset.UtcNow, 1000, CancellationToken.None), e => e.TenantId == tenant);
    }

    [Fact]
    public async Task ManagementFunctions_ReadTracesWithAdminKey_AndRefuseWithoutIt()
    {
        var functions = new ManagementFunctions(_host.Services.GetRequiredService<ManagementApi>());
        var trace = new Trace { TraceId = Guid.NewGuid(), TenantId = Guid.NewGuid(), Provider = "openai", Endpoint = "/v1/x", Method = "POST", StartedAt = DateTimeOffset.UnixEpoch };
        await _host.Services.GetRequiredService<ITraceStore>().UpsertAsync([trace], CancellationToken.None);

        var anonymous = NewContext("GET", "/api/traces", null, new RecordingStream());
        anonymous.Connection.RemoteIpAddress = IPAddress.Loopback; // Functions never trusts loopback alone.
        await functions.ManageAsync(anonymous.Request, "traces");
        var authorized = NewContext("GET", $"/api/traces/{trace.TraceId}", null, new RecordingStream());
        authorized.Request.Headers.Authorization = "Bearer fn-admin";
        await functions.ManageAsync(authorized.Request, $"traces/{trace.TraceId}");
        var health = NewContext("GET", "/health", null, new RecordingStream());
        await functions.HealthAsync(health.Request);
        var live = NewContext("GET", "/health/live", null, new RecordingStream());
        await functions.LiveAsync(live.Request);
        var ready = NewContext("GET", "/health/ready", null, new RecordingStream());
        await functions.ReadyAsync(ready.Request);

        Assert.Equal(401, anonymous.Response.StatusCode);
        Assert.Equal(200, authorized.Response.StatusCode);
        Assert.Equal(trace.TraceId, JsonSerializer.Deserialize(((RecordingStream)authorized.Response.Body).Text, CaptureJsonContext.Default.Trace)!.TraceId);
        Assert.Equal(200, health.Response.StatusCode);
        Assert.Equal((200, 200), (live.Response.StatusCode, ready.Response.StatusCode));
        Assert.Contains("\"startup\"", ((RecordingStream)ready.Response.Body).Text, StringComparison.Ordinal);
    }

    private DefaultHttpContext NewContext(string method, string path, string? body, RecordingStream responseBody)
        => FunctionRequests.Create(_host.Services, method, path, body, responseBody);

    private async Task<Trace> WaitForTraceAsync(Guid traceId)
    {
        var store = _host.Services.GetRequiredService<ITraceStore>();
        for (var i = 0; i < 500; i++)
        {
            if (await store.GetAsync(traceId, CancellationToken.None) is { } trace)
            {
                return trace;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"Trace {traceId} was not stored.");
    }

    /// <summary>A response body that records what was written and signals the first write.</summary>
    private sealed class RecordingStream : MemoryStream
    {
        private readonly TaskCompletionSource _firstWrite = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task FirstWrite => _firstWrite.Task;

        public string Text
        {
            get
            {
                lock (this)
                {
                    return Encoding.UTF8.GetString(ToArray());
                }
            }
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            lock (this)
            {
                Write(buffer.Span);
            }

            _firstWrite.TrySetResult();
            await Task.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}
