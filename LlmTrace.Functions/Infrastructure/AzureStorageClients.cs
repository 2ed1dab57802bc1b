using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace LlmTrace.Functions.Infrastructure;

/// <summary>
/// The storage SDK clients, built once: from a connection string when there is one, else from service URIs with
/// <c>DefaultAzureCredential</c>. Queue messages are Base64, as the Functions queue trigger expects by default.
/// </summary>
public sealed class AzureStorageClients
{
    public AzureStorageClients(IOptions<AzureStorageOptions> options, IConfiguration configuration)
    {
        var settings = options.Value;
        var connectionString = settings.ConnectionString ?? configuration["AzureWebJobsStorage"];
        var queueOptions = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        queueOptions.Retry.MaxRetries = 4;
        queueOptions.Retry.Mode = RetryMode.Exponential;
        queueOptions.Retry.Delay = TimeSpan.FromMilliseconds(200);
        if (!string.IsNullOrEmpty(connectionString))
        {
            UsesConnectionString = true;
            Queues = new QueueServiceClient(connectionString, queueOptions);
            Blobs = new BlobServiceClient(connectionString);
            Tables = new TableServiceClient(connectionString);
        }
        else
        {
            var credential = new DefaultAzureCredential();
            Queues = new QueueServiceClient(settings.QueueServiceUri ?? throw Missing("QueueServiceUri"), credential, queueOptions);
            Blobs = new BlobServiceClient(settings.BlobServiceUri ?? throw Missing("BlobServiceUri"), credential);
            Tables = new TableServiceClient(settings.TableServiceUri ?? throw Missing("TableServiceUri"), credential);
        }

        ClaimChecks = Blobs.GetBlobContainerClient(settings.ClaimCheckContainer);
        Parked = Blobs.GetBlobContainerClient(settings.ParkedContainer);
        Poison = Blobs.GetBlobContainerClient(settings.PoisonContainer);
        Spend = Tables.GetTableClient(settings.SpendTable);
        Anomaly = Tables.GetTableClient(settings.AnomalyTable);
        Traffic = Tables.GetTableClient(settings.TrafficTable);
    }

    /// <summary>True when built from a connection string, false when built for a managed identity.</summary>
    public bool UsesConnectionString { get; }

    public QueueServiceClient Queues { get; }

    public BlobServiceClient Blobs { get; }

    public TableServiceClient Tables { get; }

    public BlobContainerClient ClaimChecks { get; }

    public BlobContainerClient Parked { get; }

    public BlobContainerClient Poison { get; }

    public TableClient Spend { get; }

    public TableClient Anomaly { get; }

    public TableClient Traffic { get; }

    private static InvalidOperationException Missing(string setting)
        => new($"Set LlmTrace:Storage:ConnectionString (or AzureWebJobsStorage), or LlmTrace:Storage:{setting} for managed identity.");
}
