using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using LlmTrace.Domain.Processing;
using LlmTrace.Functions.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace LlmTrace.Tests.Infrastructure;

/// <summary>
/// Azurite, started by scripts/test.sh on its own loopback ports (connection string in LLMTRACE_TEST_STORAGE).
/// Each user gets uniquely named tables and containers; queue names are fixed, so queue tests share one collection.
/// </summary>
public static class Azurite
{
    public static string ConnectionString
        => Environment.GetEnvironmentVariable("LLMTRACE_TEST_STORAGE") ?? "UseDevelopmentStorage=true";

    /// <summary>Options with unique names, and clients over them with every queue, table and container created.</summary>
    /// <param name="withQueues">Create and empty the fixed-name queues: only for tests in <see cref="AzuriteQueuesCollection"/>.</param>
    public static async Task<AzureStorageClients> CreateClientsAsync(bool withQueues = false)
    {
        var suffix = Guid.NewGuid().ToString("N")[..12];
        var options = new AzureStorageOptions
        {
            ConnectionString = ConnectionString,
            ClaimCheckContainer = "claims-" + suffix,
            ParkedContainer = "parked-" + suffix,
            PoisonContainer = "poison-" + suffix,
            SpendTable = "spend" + suffix,
            AnomalyTable = "anomaly" + suffix,
            TrafficTable = "traffic" + suffix,
        };
        var clients = new AzureStorageClients(Options.Create(options), new ConfigurationBuilder().Build());
        try
        {
            await clients.Spend.CreateIfNotExistsAsync();
        }
        catch (Exception ex) when (ex is global::Azure.RequestFailedException or HttpRequestException or AggregateException)
        {
            throw new InvalidOperationException("Azurite is not reachable. Run the tests with ./scripts/test.sh, which starts it.", ex);
        }

        await clients.Anomaly.CreateIfNotExistsAsync();
        await clients.Traffic.CreateIfNotExistsAsync();
        await clients.ClaimChecks.CreateIfNotExistsAsync();
        await clients.Parked.CreateIfNotExistsAsync();
        await clients.Poison.CreateIfNotExistsAsync();
        foreach (var queue in withQueues ? [QueueNames.Captures, QueueNames.Anomaly, QueueNames.Security] : Array.Empty<string>())
        {
            await clients.Queues.GetQueueClient(queue).CreateIfNotExistsAsync();
            await clients.Queues.GetQueueClient(queue).ClearMessagesAsync();
        }

        return clients;
    }

    /// <summary>Takes the next message off a queue (waiting up to 5 s) and returns its body.</summary>
    public static async Task<string> ReceiveAsync(AzureStorageClients clients, string queue)
    {
        var client = clients.Queues.GetQueueClient(queue);
        for (var i = 0; i < 100; i++)
        {
            var message = (await client.ReceiveMessageAsync()).Value;
            if (message is not null)
            {
                await client.DeleteMessageAsync(message.MessageId, message.PopReceipt);
                return message.Body.ToString();
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"No message arrived on {queue}.");
    }

    public static Dictionary<string, string?> Settings(AzureStorageClients clients) => new()
    {
        ["LlmTrace:Storage:ConnectionString"] = ConnectionString,
        ["LlmTrace:Storage:ClaimCheckContainer"] = clients.ClaimChecks.Name,
        ["LlmTrace:Storage:ParkedContainer"] = clients.Parked.Name,
        ["LlmTrace:Storage:PoisonContainer"] = clients.Poison.Name,
        ["LlmTrace:Storage:SpendTable"] = clients.Spend.Name,
        ["LlmTrace:Storage:AnomalyTable"] = clients.Anomaly.Name,
        ["LlmTrace:Storage:TrafficTable"] = clients.Traffic.Name,
    };
}

/// <summary>Tests that use the fixed queue names run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class AzuriteQueuesCollection
{
    public const string Name = "Azurite queues";
}
