using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using LlmTrace.Domain.Telemetry;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace LlmTrace.Functions;

/// <summary>
/// OpenTelemetry in the Functions worker: the gateway's spans and metrics, correlated with the host's invocations, sent
/// to Application Insights by the Azure Monitor exporter. The connection string comes from
/// <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> (set by infra/); authentication is Entra ID through the app's managed
/// identity, because the templates turn local (key) authentication off.
/// </summary>
public static class FunctionsTelemetry
{
    public const string ConnectionStringSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    public const string TracesPerSecondSetting = "LlmTrace:Telemetry:TracesPerSecond";

    public static IHostApplicationBuilder AddFunctionsTelemetry(this IHostApplicationBuilder builder)
    {
        var builderOtel = builder.Services.AddOpenTelemetry()
            .UseFunctionsWorkerDefaults()
            .WithTracing(tracing => tracing.AddSource(GatewayTelemetry.Name))
            .WithMetrics(metrics => metrics.AddMeter(GatewayTelemetry.MeterNames));
        if (!string.IsNullOrEmpty(builder.Configuration[ConnectionStringSetting]))
        {
            // Azure Monitor samples traces by rate (5 per second unless set); 0 keeps every trace (metrics are never sampled).
            var perSecond = builder.Configuration.GetValue<double?>(TracesPerSecondSetting) ?? 5;
            builderOtel.UseAzureMonitorExporter(options =>
            {
                options.Credential = new DefaultAzureCredential();
                if (perSecond > 0)
                {
                    options.TracesPerSecond = perSecond;
                }
                else
                {
                    options.TracesPerSecond = null;
                    options.SamplingRatio = 1.0F;
                }
            });
        }

        return builder;
    }
}
