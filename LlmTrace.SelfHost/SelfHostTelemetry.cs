using LlmTrace.Domain.Management;
using LlmTrace.Domain.Proxy;
using LlmTrace.Domain.Telemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace LlmTrace.SelfHost;

/// <summary>
/// OpenTelemetry on SelfHost: the gateway's meters behind a Prometheus scrape endpoint (<c>GET /metrics</c>, same access
/// rule as the management API, administrators only), and traces and metrics over OTLP when the standard
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.
/// </summary>
internal static class SelfHostTelemetry
{
    public const string MetricsPath = "/metrics";

    /// <summary>False: no OpenTelemetry SDK at all (no <c>/metrics</c>, no OTLP), for a measured baseline.</summary>
    public const string EnabledSetting = "LlmTrace:Telemetry:Enabled";

    public static WebApplicationBuilder AddSelfHostTelemetry(this WebApplicationBuilder builder)
    {
        if (!builder.Configuration.GetValue(EnabledSetting, true))
        {
            return builder;
        }

        var otlp = !string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("llmtrace-gateway"))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(GatewayTelemetry.MeterNames)
                    .AddPrometheusExporter();
                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }
            });
        if (otlp)
        {
            telemetry.WithTracing(tracing => tracing.AddSource(GatewayTelemetry.Name).AddOtlpExporter());
        }

        return builder;
    }

    public static IEndpointRouteBuilder MapMetrics(this IEndpointRouteBuilder endpoints)
    {
        if (endpoints.ServiceProvider.GetService<OpenTelemetry.Metrics.MeterProvider>() is null)
        {
            return endpoints;
        }

        var authorizer = endpoints.ServiceProvider.GetRequiredService<ManagementAuthorizer>();
        endpoints.MapPrometheusScrapingEndpoint(MetricsPath).AddEndpointFilter(async (context, next) =>
        {
            // Metrics cover every tenant: administrators only, exactly as the management API decides who that is.
            var caller = await authorizer.AuthenticateAsync(context.HttpContext).ConfigureAwait(false);
            if (caller is null)
            {
                return Results.Empty;
            }

            if (!caller.IsAdmin)
            {
                await ManagementAuthorizer.ForbiddenAsync(context.HttpContext, "Only an administrator may read the gateway's metrics.").ConfigureAwait(false);
                return Results.Empty;
            }

            return await next(context).ConfigureAwait(false);
        });
        return endpoints;
    }
}
