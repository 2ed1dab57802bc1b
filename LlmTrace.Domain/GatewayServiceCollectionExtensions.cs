using LlmTrace.Domain.Alerts;
using LlmTrace.Domain.Anomalies;
using LlmTrace.Domain.Budgets;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Costs;
using LlmTrace.Domain.Limits;
using LlmTrace.Domain.Records;
using LlmTrace.Domain.Tenancy;
using LlmTrace.Domain.Processing;
using LlmTrace.Domain.Security;
using LlmTrace.Domain.Management;
using LlmTrace.Domain.Providers;
using LlmTrace.Domain.Proxy;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain;

/// <summary>Registers the gateway's capabilities. Hosts call <see cref="AddGatewayCore"/> and then add their own adapters.</summary>
public static class GatewayServiceCollectionExtensions
{
    public static IHostApplicationBuilder AddGatewayCore(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        // Credentials never reach a log line, whatever the level (the request log writes URLs with their query).
        builder.Services.AddCredentialRedaction();
        builder.Services.AddProxy();
        builder.Services.AddCapture();
        builder.Services.AddManagement();
        builder.Services.AddTenancy();
        builder.Services.AddProcessing();
        return builder;
    }

    /// <summary>
    /// Pricing, the processing stages, anomaly detection and alerting. Hosts register the stores
    /// (<see cref="ISpendLedger"/>, <see cref="IAnomalyStateStore"/>, <see cref="ITraceStore"/>, <see cref="Stats.ITrafficStatsStore"/>).
    /// </summary>
    public static IServiceCollection AddProcessing(this IServiceCollection services)
    {
        services.AddOptions<PricingOptions>().BindConfiguration(PricingOptions.SectionName);
        services.AddOptionsWithValidateOnStart<BudgetOptions>().BindConfiguration(BudgetOptions.SectionName);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BudgetOptions>, BudgetOptionsValidator>());
        services.AddOptionsWithValidateOnStart<AnomalyOptions, AnomalyOptionsValidator>().BindConfiguration(AnomalyOptions.SectionName);
        services.AddOptionsWithValidateOnStart<AlertOptions, AlertOptionsValidator>().BindConfiguration(AlertOptions.SectionName);
        services.AddWebhookClients();
        services.TryAddSingleton<PricingCatalog>();
        services.TryAddSingleton<AnomalyDetector>();
        services.TryAddSingleton<IAlertPublisher, WebhookAlertPublisher>();
        services.TryAddSingleton<FindingAlerter>();
        services.TryAddSingleton<CostAccountingStage>();
        services.TryAddSingleton<AnomalyDetectionStage>();
        services.TryAddSingleton<SecurityAnalysisStage>();
        services.TryAddSingleton<TracePipeline>();
        services.TryAddSingleton<ITraceProcessor>(sp => sp.GetRequiredService<TracePipeline>());
        services.TryAddSingleton<BudgetWindowCloser>();
        services.TryAddSingleton<Maintenance.GatewayMaintenance>();
        services.TryAddSingleton<PoisonHandler>();
        services.TryAddSingleton<PoisonReplayer>();
        services.AddSecurity();
        return services;
    }

    /// <summary>The fast security rules: capture-time PII and secret redaction, and the analyzers the security stage runs.</summary>
    public static IServiceCollection AddSecurity(this IServiceCollection services)
    {
        services.AddOptions<SecurityOptions>().BindConfiguration(SecurityOptions.SectionName);
        services.TryAddSingleton<CaptureRedactor>();
        services.AddOptionsWithValidateOnStart<EnforcementOptions, EnforcementOptionsValidator>().BindConfiguration(EnforcementOptions.SectionName);
        services.TryAddSingleton<RequestGuard>();
        services.AddHostedService<SecurityWarmup>();
        services.TryAddSingleton(_ => new PromptInjectionDetector());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ISecurityAnalyzer, InjectionAnalyzer>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ISecurityAnalyzer, ToolCallAnalyzer>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ISecurityAnalyzer, OutputSafetyAnalyzer>());
        return services;
    }

    /// <summary>
    /// Tenants, gateway keys, the audit log, rate limits and hard cost caps. Hosts register the
    /// <see cref="IRecordStore"/> and <see cref="IRateLimitStore"/> (SQLite and in-process; Table Storage and shared counters).
    /// </summary>
    public static IServiceCollection AddTenancy(this IServiceCollection services)
    {
        services.AddOptionsWithValidateOnStart<AuthOptions, AuthOptionsValidator>().BindConfiguration(AuthOptions.SectionName);
        services.AddOptionsWithValidateOnStart<TenancyOptions, TenancyOptionsValidator>().BindConfiguration(TenancyOptions.SectionName);
        services.AddOptionsWithValidateOnStart<RateLimitOptions, RateLimitOptionsValidator>().BindConfiguration(RateLimitOptions.SectionName);
        services.TryAddSingleton<TenantStore>();
        services.TryAddSingleton<GatewayKeyStore>();
        services.TryAddSingleton<AuditLog>();
        services.TryAddSingleton<RateLimiter>();
        services.TryAddSingleton<BudgetGate>();
        services.TryAddSingleton<UnauthenticatedRefusals>();
        services.TryAddSingleton<GatewayAuthenticator>();
        services.TryAddSingleton<GatewayAdmission>();
        return services;
    }

    public static IServiceCollection AddProxy(this IServiceCollection services)
    {
        services.AddOptionsWithValidateOnStart<ProxyOptions, ProxyOptionsValidator>().BindConfiguration(ProxyOptions.SectionName);
        services.AddOptionsWithValidateOnStart<UpstreamOptions, UpstreamOptionsValidator>().BindConfiguration(UpstreamOptions.SectionName);
        services.AddHttpClient(GatewayProxy.HttpClientName)
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(sp =>
            {
                var proxy = sp.GetRequiredService<IOptions<ProxyOptions>>().Value;
                var propagate = sp.GetRequiredService<IOptions<Telemetry.TelemetryOptions>>().Value.PropagateToUpstreams;
                return new SocketsHttpHandler
                {
                    AllowAutoRedirect = false,
                    AutomaticDecompression = System.Net.DecompressionMethods.None,
                    UseCookies = false,
                    UseProxy = true,
                    ConnectTimeout = TimeSpan.FromSeconds(proxy.ConnectTimeoutSeconds),
                    PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                    EnableMultipleHttp2Connections = true,
                    // Forward the client's trace headers as they are and add none of our own, unless propagation is on.
                    ActivityHeadersPropagator = propagate ? System.Diagnostics.DistributedContextPropagator.Current : null,
                };
            })
            // The default handler logs full URIs at Information, and Gemini puts its key in the query string.
            .RemoveAllLoggers()
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan);
        services.AddOptions<Telemetry.TelemetryOptions>().BindConfiguration(Telemetry.TelemetryOptions.SectionName);
        services.AddBreakers();
        services.AddMetrics();
        services.TryAddSingleton<Telemetry.GatewayTelemetry>();
        services.TryAddSingleton<TokenEstimator>();
        services.TryAddSingleton<TraceBuilder>();
        services.TryAddSingleton<RequestMemoryBudget>();
        // The gateway's own identity, made only if a backend signs in with it (tests put a fake TokenCredential first).
        services.TryAddSingleton<Azure.Core.TokenCredential>(_ => new Azure.Identity.DefaultAzureCredential());
        services.TryAddSingleton(
            sp => new Lazy<Routing.EntraTokenSource>(
                () => new Routing.EntraTokenSource(sp.GetRequiredService<Azure.Core.TokenCredential>(), sp.GetRequiredService<TimeProvider>())));
        services.TryAddSingleton<Routing.BackendPools>();
        services.TryAddSingleton<GatewayProxy>();
        return services;
    }

    /// <summary>The circuit breakers, once however often asked for (hosts and the ML detector both need them).</summary>
    public static IServiceCollection AddBreakers(this IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(Resilience.Breakers)))
        {
            return services;
        }

        services.AddOptions<Resilience.BreakerOptions>().BindConfiguration(Resilience.BreakerOptions.SectionName);
        services.AddLogging();
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<Resilience.Breakers>();
        services.AddHealthChecks().AddCheck<Resilience.BreakersHealthCheck>("breakers");
        return services;
    }

    public static IServiceCollection AddCapture(this IServiceCollection services)
    {
        services.AddOptionsWithValidateOnStart<CaptureOptions, CaptureOptionsValidator>().BindConfiguration(CaptureOptions.SectionName);
        return services;
    }

    /// <summary>The in-process capture queue and its consumer, draining into whichever <see cref="ITraceStore"/> the host registers.</summary>
    public static IServiceCollection AddInProcessCaptureQueue(this IServiceCollection services)
    {
        services.AddOptionsWithValidateOnStart<JournalOptions, JournalOptionsValidator>().BindConfiguration(JournalOptions.SectionName);
        services.TryAddSingleton<CaptureJournal>();
        services.TryAddSingleton<ChannelCaptureQueue>();
        services.TryAddSingleton<ICaptureQueue, JournaledCaptureQueue>();
        services.AddHostedService<CaptureJournalRecovery>();
        services.AddHostedService<CaptureConsumer>();
        services.AddMetrics();
        services.AddHostedService<CaptureQueueMetrics>();
        services.AddHealthChecks().AddCheck<CaptureQueueHealthCheck>("captureQueue");
        return services;
    }

    public static IServiceCollection AddManagement(this IServiceCollection services)
    {
        services.AddOptions<ManagementOptions>().BindConfiguration(ManagementOptions.SectionName);
        services.TryAddSingleton<ManagementAuthorizer>();
        services.TryAddSingleton<TenantResource>();
        services.TryAddSingleton<TenantsApi>();
        services.TryAddSingleton<KeysApi>();
        services.TryAddSingleton<BudgetsApi>();
        services.TryAddSingleton<AuditApi>();
        services.TryAddSingleton<ReportsApi>();
        services.TryAddSingleton<PoisonApi>();
        services.TryAddSingleton<ManagementApi>();
        services.TryAddSingleton<Dashboard.DashboardAssets>();
        services.TryAddSingleton<StartupReadiness>();
        services.AddHostedService<ClassifierWarmup>();
        // "ready": what /health/ready asks; /health reports every check.
        services.AddHealthChecks()
            .AddCheck<StartupHealthCheck>("startup", tags: [ManagementApi.ReadyTag])
            .AddCheck<TraceStoreHealthCheck>("traceStore", tags: [ManagementApi.ReadyTag])
            .AddCheck<UpstreamsHealthCheck>("upstreams");
        return services;
    }
}
