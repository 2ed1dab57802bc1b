using LlmTrace.Domain.Capture;
using LlmTrace.Functions;
using LlmTrace.Functions.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LlmTrace.Tests.Azure;

/// <summary>
/// The settings infra/ deploys (endpoints only) make the adapters use DefaultAzureCredential; connection strings, as in
/// local runs, make them use keys. Building the clients makes no network call, so this needs no Azure.
/// </summary>
public sealed class AzureClientConstructionTests
{
    [Fact]
    public void EndpointsOnly_AsDeployedByBicep_UseManagedIdentityEverywhere()
    {
        using var host = Build(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage__accountName"] = "llmtracedevabc",
            ["AzureWebJobsStorage__credential"] = "managedidentity",
            ["LlmTrace:Storage:BlobServiceUri"] = "https://llmtracedevabc.blob.core.windows.net/",
            ["LlmTrace:Storage:QueueServiceUri"] = "https://llmtracedevabc.queue.core.windows.net/",
            ["LlmTrace:Storage:TableServiceUri"] = "https://llmtracedevabc.table.core.windows.net/",
            ["LlmTrace:Cosmos:Endpoint"] = "https://cosmos-llmtrace-dev.documents.azure.com:443/",
        });

        var storage = host.Services.GetRequiredService<AzureStorageClients>();
        var cosmos = host.Services.GetRequiredService<IOptions<CosmosOptions>>().Value;

        Assert.False(storage.UsesConnectionString);
        Assert.Equal(new Uri("https://llmtracedevabc.queue.core.windows.net/"), storage.Queues.Uri);
        Assert.Equal("llmtracedevabc", storage.Tables.AccountName);
        Assert.Equal(CosmosClientFactory.Authentication.ManagedIdentity, CosmosClientFactory.AuthenticationFor(cosmos));
        Assert.IsType<CosmosTraceStore>(host.Services.GetRequiredService<ITraceStore>());
    }

    [Fact]
    public void ConnectionStrings_AsInLocalRuns_UseAccountKeys()
    {
        using var host = Build(new Dictionary<string, string?>
        {
            ["LlmTrace:Storage:ConnectionString"] = Infrastructure.Azurite.ConnectionString,
            ["LlmTrace:Cosmos:ConnectionString"] = "AccountEndpoint=https://localhost:8081/;AccountKey=C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==",
        });

        Assert.True(host.Services.GetRequiredService<AzureStorageClients>().UsesConnectionString);
        Assert.Equal(CosmosClientFactory.Authentication.AccountKey, CosmosClientFactory.AuthenticationFor(host.Services.GetRequiredService<IOptions<CosmosOptions>>().Value));
    }

    [Fact]
    public void NeitherConnectionStringNorEndpoints_FailsWithTheSettingToSet()
    {
        using var host = Build(new Dictionary<string, string?>());

        var error = Assert.Throws<InvalidOperationException>(() => host.Services.GetRequiredService<AzureStorageClients>());
        Assert.Contains("LlmTrace:Storage:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LocalRun_WithAConnectionString_CreatesItsTablesAndContainersAtStartUp()
    {
        var suffix = Guid.NewGuid().ToString("N")[..10];
        using var host = Build(new Dictionary<string, string?>
        {
            ["LlmTrace:Storage:ConnectionString"] = Infrastructure.Azurite.ConnectionString,
            ["LlmTrace:Storage:SpendTable"] = "spend" + suffix,
            ["LlmTrace:Storage:AnomalyTable"] = "anomaly" + suffix,
            ["LlmTrace:Storage:ClaimCheckContainer"] = "claims-" + suffix,
            ["LlmTrace:Storage:ParkedContainer"] = "parked-" + suffix,
            ["LlmTrace:Storage:PoisonContainer"] = "poison-" + suffix,
        });

        await host.StartAsync();
        var clients = host.Services.GetRequiredService<AzureStorageClients>();
        var spendExists = await clients.Tables.QueryAsync(t => t.Name == "spend" + suffix).AnyAsync();
        var claimsExist = (await clients.ClaimChecks.ExistsAsync()).Value;
        var poisonQueueExists = (await clients.Queues.GetQueueClient(LlmTrace.Domain.Processing.QueueNames.Captures + "-poison").ExistsAsync()).Value;
        await host.StopAsync();

        Assert.True(spendExists);
        Assert.True(claimsExist);
        Assert.True(poisonQueueExists);
    }

    private static IHost Build(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddGateway();
        return builder.Build();
    }
}
