using Microsoft.Extensions.Options;

namespace LlmTrace.SelfHost.Infrastructure;

/// <summary>Creates the SQLite schema before the server takes traffic and says where the data lives.</summary>
internal sealed class SqliteInitializer(SqliteDatabase database, IOptions<SqliteOptions> options, ILogger<SqliteInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await database.InitializeAsync(cancellationToken).ConfigureAwait(false);
        logger.DataLocation(database.FullPath, options.Value.Path);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
