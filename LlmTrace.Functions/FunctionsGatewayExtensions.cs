using LlmTrace.Domain;
using LlmTrace.Domain.Anomalies;
using LlmTrace.Domain.Budgets;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Limits;
using LlmTrace.Domain.Records;
using LlmTrace.Domain.Processing;
using LlmTrace.Functions.Infrastructure;
using LlmTrace.Ml;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace LlmTrace.Functions;

public static class FunctionsGatewayExtensions
{
    public const string TransportSetting = "LlmTrace:Capture:Transport";

    /// <summary>
    /// The gateway's services for the Azure Functions host. Captures go through Azure Storage Queues
    /// (<c>LlmTrace__Capture__Transport=StorageQueue</c>, the default) to the queue-triggered stages, with the spend
    /// ledger and anomaly state in Table Storage. <c>InProcess</c> keeps everything in memory for a quick local look.
    /// </summary>
    public static IHostApplicationBuilder AddGateway(this IHostApplicationBuilder builder)
    {
        builder.AddGatewayCore();
        builder.Services.AddMlDetector(builder.Configuration);
        // The worker's own Kestrel keeps ASP.NET's 30 MB default; the proxy enforces the gateway's limit itself.
        builder.Services.Configure<KestrelServerOptions>(options => options.Limits.MaxRequestBodySize = null);
        builder.Services.AddOptionsWithValidateOnStart<CosmosOptions, CosmosOptionsValidator>().BindConfiguration(CosmosOptions.SectionName);
        var cosmos = builder.Configuration.GetSection(CosmosOptions.SectionName).Get<CosmosOptions>() ?? new CosmosOptions();
        if (cosmos.IsConfigured)
        {
            builder.Services.TryAddSingleton(
                sp => CosmosClientFactory.Create(sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<CosmosOptions>>().Value));
            builder.Services.TryAddSingleton<ITraceStore>(sp => new CosmosTraceStore(
                CosmosClientFactory.Container(
                    sp.GetRequiredService<Microsoft.Azure.Cosmos.CosmosClient>(),
                    sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<CosmosOptions>>()),
                sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<CosmosOptions>>(),
                sp.GetRequiredService<LlmTrace.Domain.Tenancy.TenantStore>()));
        }

        builder.Services.TryAddSingleton<ITraceStore>(_ => new InMemoryTraceStore());
        // The function classes, resolvable for tests that call them directly (the worker activates them the same way).
        builder.Services.TryAddSingleton<Proxy.ProxyFunctions>();
        builder.Services.TryAddSingleton<Management.ManagementFunctions>();
        builder.Services.TryAddSingleton<Management.DashboardFunctions>();
        builder.Services.TryAddSingleton<Budgets.BudgetTimerFunction>();

        var transport = CaptureTransports.Resolve(builder.Configuration[TransportSetting]);
        if (transport == CaptureTransport.InProcess)
        {
            builder.Services.TryAddSingleton<ISpendLedger, InMemorySpendLedger>();
            builder.Services.TryAddSingleton<IAnomalyStateStore, InMemoryAnomalyStateStore>();
            builder.Services.TryAddSingleton<Domain.Stats.ITrafficStatsStore, Domain.Stats.InMemoryTrafficStatsStore>();
            builder.Services.TryAddSingleton<IRecordStore, InMemoryRecordStore>();
            builder.Services.TryAddSingleton<IRateLimitStore, InMemoryRateLimitStore>();
            builder.Services.TryAddSingleton<IPoisonStore, InMemoryPoisonStore>();
            builder.Services.AddInProcessCaptureQueue();
            // The stores are in memory: a journal would bring back traces into stores that no longer exist.
            builder.Services.PostConfigure<Domain.Capture.JournalOptions>(o => o.Durability = Domain.Capture.JournalDurability.Off);
            return builder;
        }

        builder.Services.AddAzureStorageAdapters();
        if (transport == CaptureTransport.ServiceBus)
        {
            builder.Services.AddServiceBusTransport(builder.Configuration);
        }

        return builder;
    }

    /// <summary>
    /// Service Bus as the capture and stage queues (<c>LlmTrace__Capture__Transport=ServiceBus</c>), from
    /// <c>LlmTrace:ServiceBus</c> (a connection string) or <c>LlmTrace:ServiceBus:fullyQualifiedNamespace</c> (managed identity).
    /// Storage is still used for claim checks, parking, the ledger and anomaly state.
    /// </summary>
    public static IServiceCollection AddServiceBusTransport(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(_ =>
        {
            var connectionString = configuration["LlmTrace:ServiceBus"];
            var fullyQualifiedNamespace = configuration["LlmTrace:ServiceBus:fullyQualifiedNamespace"];
            return !string.IsNullOrEmpty(connectionString)
                ? new Azure.Messaging.ServiceBus.ServiceBusClient(connectionString)
                : new Azure.Messaging.ServiceBus.ServiceBusClient(
                    fullyQualifiedNamespace ?? throw new InvalidOperationException(
                        "Set LlmTrace:ServiceBus (connection string) or LlmTrace:ServiceBus:fullyQualifiedNamespace."),
                    new Azure.Identity.DefaultAzureCredential());
        });
        services.AddSingleton(sp => new ServiceBusCaptureTransport(
            sp.GetRequiredService<Azure.Messaging.ServiceBus.ServiceBusClient>(),
            new CaptureMessageCodec(sp.GetRequiredService<IClaimCheckStore>(), ServiceBusCaptureTransport.InlineLimit),
            sp.GetRequiredService<CaptureDelivery>()));
        services.AddSingleton<ICaptureQueue>(sp => sp.GetRequiredService<ServiceBusCaptureTransport>());
        services.AddSingleton<IStageQueue>(sp => sp.GetRequiredService<ServiceBusCaptureTransport>());
        return services;
    }

    /// <summary>The share of a rate limit an instance takes from the shared counter at a time, unless configured.</summary>
    public const double DefaultAllowanceFraction = 0.05;

    public static IServiceCollection AddAzureStorageAdapters(this IServiceCollection services)
    {
        services.AddOptionsWithValidateOnStart<AzureStorageOptions, AzureStorageOptionsValidator>().BindConfiguration(AzureStorageOptions.SectionName);
        services.TryAddSingleton<AzureStorageClients>();
        services.AddHostedService<LocalStorageInitializer>();
        services.TryAddSingleton<IClaimCheckStore, BlobClaimCheckStore>();
        services.TryAddSingleton<IParkedCaptureStore, BlobParkedCaptureStore>();
        services.TryAddSingleton<IPoisonStore, BlobPoisonStore>();
        services.TryAddSingleton(sp => new CaptureMessageCodec(sp.GetRequiredService<IClaimCheckStore>()));
        services.TryAddSingleton<CaptureOutbox>();
        services.AddHostedService(sp => sp.GetRequiredService<CaptureOutbox>());
        services.TryAddSingleton<CaptureDelivery>();
        services.TryAddSingleton<StorageQueueTransport>();
        services.TryAddSingleton<ICaptureQueue>(sp => sp.GetRequiredService<StorageQueueTransport>());
        services.TryAddSingleton<IStageQueue>(sp => sp.GetRequiredService<StorageQueueTransport>());
        services.TryAddSingleton<ISpendLedger, TableSpendLedger>();
        services.TryAddSingleton<IAnomalyStateStore, TableAnomalyStateStore>();
        services.TryAddSingleton<Domain.Stats.ITrafficStatsStore, TableTrafficStatsStore>();
        services.TryAddSingleton<IRecordStore, TableRecordStore>();
        // Counters shared by every instance; each instance takes a small allowance at a time (LlmTrace:RateLimits).
        services.TryAddSingleton<IRateLimitStore, RecordRateLimitStore>();
        services.PostConfigure<RateLimitOptions>(o => o.LocalAllowanceFraction ??= DefaultAllowanceFraction);
        services.TryAddSingleton<StageRunner>();
        services.TryAddSingleton<ParkedCaptureReplayer>();
        services.TryAddSingleton<PoisonHandler>();

#if !CAPTURE_SERVICEBUS
        // The Storage Queue triggers exist only in that build (see CaptureTransports.Built).
        services.TryAddSingleton<Processing.ProcessingFunctions>();
        services.TryAddSingleton<Processing.PoisonFunctions>();
#endif
        return services;
    }
}
