using LlmTrace.Domain;
using LlmTrace.Domain.Anomalies;
using LlmTrace.Domain.Budgets;
using LlmTrace.Domain.Capture;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace LlmTrace.Functions;

public static class FunctionsGatewayExtensions
{
    /// <summary>
    /// The gateway's services for the Azure Functions host. Until the Azure adapters are configured (Storage Queue,
    /// Cosmos DB, Table Storage), traces go through the in-process queue and pipeline into bounded in-memory stores.
    /// </summary>
    public static IHostApplicationBuilder AddGateway(this IHostApplicationBuilder builder)
    {
        builder.AddGatewayCore();
        // The worker's own Kestrel keeps ASP.NET's 30 MB default; the proxy enforces the gateway's limit itself.
        builder.Services.Configure<KestrelServerOptions>(options => options.Limits.MaxRequestBodySize = null);
        builder.Services.TryAddSingleton<ITraceStore>(_ => new InMemoryTraceStore());
        builder.Services.TryAddSingleton<ISpendLedger, InMemorySpendLedger>();
        builder.Services.TryAddSingleton<IAnomalyStateStore, InMemoryAnomalyStateStore>();
        builder.Services.AddInProcessCaptureQueue();
        return builder;
    }
}
