using Microsoft.Extensions.Options;

namespace LlmTrace.SelfHost.Infrastructure;

/// <summary>Creates the SQLite schema before the server takes traffic and says where the data lives.</summary>
internal sealed class SqliteInitializer(SqliteTraceStore store, IOptions<SqliteOptions> options, ILogger<SqliteInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
        logger.DataLocation(store.FullPath, options.Value.Path);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
