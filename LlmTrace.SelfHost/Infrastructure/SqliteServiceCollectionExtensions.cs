using LlmTrace.Domain.Anomalies;
using LlmTrace.Domain.Budgets;
using LlmTrace.Domain.Capture;

namespace LlmTrace.SelfHost.Infrastructure;

internal static class SqliteServiceCollectionExtensions
{
    /// <summary>The SQLite stores (traces, spend ledger, anomaly state); the schema is created by a hosted service registered first.</summary>
    public static IServiceCollection AddSqliteStores(this IServiceCollection services)
    {
        services.AddOptionsWithValidateOnStart<SqliteOptions, SqliteOptionsValidator>().BindConfiguration(SqliteOptions.SectionName);
        services.AddSingleton<SqliteDatabase>();
        services.AddSingleton<SqliteTraceStore>();
        services.AddSingleton<ITraceStore>(sp => sp.GetRequiredService<SqliteTraceStore>());
        services.AddSingleton<LlmTrace.Domain.Maintenance.ITraceRetention>(sp => sp.GetRequiredService<SqliteTraceStore>());
        services.AddSingleton<ISpendLedger, SqliteSpendLedger>();
        services.AddSingleton<IAnomalyStateStore, SqliteAnomalyStateStore>();
        services.AddSingleton<LlmTrace.Domain.Stats.ITrafficStatsStore, SqliteTrafficStatsStore>();
        services.AddSingleton<LlmTrace.Domain.Records.IRecordStore, SqliteRecordStore>();
        services.AddSingleton<LlmTrace.Domain.Processing.IPoisonStore, SqlitePoisonStore>();
        // One process: exact in-memory counters.
        services.AddSingleton<LlmTrace.Domain.Limits.IRateLimitStore, LlmTrace.Domain.Limits.InMemoryRateLimitStore>();
        services.Insert(0, ServiceDescriptor.Singleton<IHostedService, SqliteInitializer>());
        services.AddHostedService<MaintenanceService>();
        return services;
    }
}
