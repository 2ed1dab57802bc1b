using LlmTrace.Domain.Capture;

namespace LlmTrace.SelfHost.Infrastructure;

internal static class SqliteServiceCollectionExtensions
{
    /// <summary>The SQLite trace store; its schema is created by a hosted service registered ahead of the capture consumer.</summary>
    public static IServiceCollection AddSqliteTraceStore(this IServiceCollection services)
    {
        services.AddOptionsWithValidateOnStart<SqliteOptions, SqliteOptionsValidator>().BindConfiguration(SqliteOptions.SectionName);
        services.AddSingleton<SqliteTraceStore>();
        services.AddSingleton<ITraceStore>(sp => sp.GetRequiredService<SqliteTraceStore>());
        services.Insert(0, ServiceDescriptor.Singleton<IHostedService, SqliteInitializer>());
        return services;
    }
}
