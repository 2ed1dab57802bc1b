using LlmTrace.Domain.Processing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LlmTrace.Functions.Infrastructure;

/// <summary>
/// With a storage connection string (Azurite, local <c>func start</c>), creates the queues, tables and containers the
/// host uses, once at start-up. With a managed identity (Azure), infra/ has created them and nothing is done here.
/// </summary>
public sealed partial class LocalStorageInitializer(
    AzureStorageClients clients, IEnumerable<Domain.Records.IRecordStore> records, ILogger<LocalStorageInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!clients.UsesConnectionString)
        {
            return;
        }

        try
        {
            foreach (var queue in (string[])[QueueNames.Captures, QueueNames.Anomaly, QueueNames.Security])
            {
                await clients.Queues.GetQueueClient(queue).CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                await clients.Queues.GetQueueClient(queue + QueueNames.PoisonSuffix).CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            }

            await clients.Spend.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
            await clients.Anomaly.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
            await clients.Traffic.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
            foreach (var store in records.OfType<TableRecordStore>())
            {
                foreach (var table in Domain.Records.RecordTables.All)
                {
                    await store.Table(table).CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            foreach (var container in new[] { clients.ClaimChecks, clients.Parked, clients.Poison })
            {
                await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is Azure.RequestFailedException or AggregateException or HttpRequestException)
        {
            // Not fatal: the functions report the missing resource when they use it, with its name.
            Failed(logger, ex);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 8101, Level = LogLevel.Warning, Message = "Could not create the local storage queues, tables and containers.")]
    private static partial void Failed(ILogger logger, Exception exception);
}
