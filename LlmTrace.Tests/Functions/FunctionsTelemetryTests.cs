using System.Diagnostics;
using LlmTrace.Domain.Proxy;
using LlmTrace.Functions;
using LlmTrace.Functions.Proxy;
using LlmTrace.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Trace;

namespace LlmTrace.Tests.Functions;

/// <summary>
/// The worker's OpenTelemetry wiring, as Program.cs makes it, with an in-memory exporter beside Azure Monitor's: a
/// proxied call becomes one GenAI CLIENT span with the semantic-convention attributes, and the upstream request gets no
/// trace header the client did not send.
/// </summary>
public sealed class FunctionsTelemetryTests
{
    [Fact]
    public async Task ProxiedCall_IsOneGenAiClientSpan_AndTheUpstreamSeesNoNewHeader()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var spans = new List<Activity>();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["LlmTrace:Upstreams:Default"] = upstream.BaseAddress.ToString(),
            [FunctionsGatewayExtensions.TransportSetting] = "InProcess",
            // Azure Monitor is configured (it cannot reach anything here); the in-memory exporter shows what it would get.
            [FunctionsTelemetry.ConnectionStringSetting] = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/",
            // Every trace, not Azure Monitor's default 5 per second, which the other tests' traffic in this process uses up.
            [FunctionsTelemetry.TracesPerSecondSetting] = "0",
        });
        builder.AddGateway();
        builder.AddFunctionsTelemetry();
        builder.Services.AddOpenTelemetry().WithTracing(tracing => tracing.AddInMemoryExporter(spans));
        using var host = builder.Build();
        await host.StartAsync();

        var context = FunctionRequests.Create(host.Services, "POST", "/v1/chat/completions",
            """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}""", new MemoryStream());
        context.Request.Headers.Authorization = "Bearer " + TestKeys.NewKey();
        await host.Services.GetRequiredService<ProxyFunctions>().OpenAIAsync(context.Request);
        host.Services.GetRequiredService<TracerProvider>().ForceFlush();
        await host.StopAsync();

        // The source is process-wide: other tests' calls may be exported too, so pick this call's span by its trace id.
        var traceId = context.Response.Headers[GatewayProxy.TraceIdHeader].ToString();
        var span = Assert.Single(spans, s => s.Source.Name == Domain.Telemetry.GatewayTelemetry.Name && (string?)s.GetTagItem("llmtrace.trace_id") == traceId);
        Assert.Equal("chat gpt-4o-mini", span.DisplayName);
        Assert.Equal(ActivityKind.Client, span.Kind);
        Assert.Equal("openai-compatible", span.GetTagItem("gen_ai.provider.name"));
        Assert.Equal("gpt-4o-mini", span.GetTagItem("gen_ai.request.model"));
        Assert.NotNull(span.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.NotNull(span.GetTagItem("gen_ai.usage.output_tokens"));
        Assert.DoesNotContain(span.TagObjects, t => t.Value is string text && text.Contains("hello", StringComparison.Ordinal));
        var forwarded = upstream.Requests.Last();
        Assert.Null(forwarded.Header("traceparent"));
    }
}
