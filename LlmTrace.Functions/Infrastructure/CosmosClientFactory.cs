using Azure.Identity;
using Microsoft.Azure.Cosmos;
using Microsoft.Extensions.Options;

namespace LlmTrace.Functions.Infrastructure;

/// <summary>Builds the one <see cref="CosmosClient"/>: key from a connection string, or managed identity with an endpoint.</summary>
public static class CosmosClientFactory
{
    /// <summary>How the client authenticates: the account key in a connection string, or Entra ID (DefaultAzureCredential).</summary>
    public enum Authentication
    {
        AccountKey,
        ManagedIdentity,
    }

    /// <summary>A connection string wins; with only an endpoint the client uses DefaultAzureCredential (managed identity in Azure).</summary>
    public static Authentication AuthenticationFor(CosmosOptions options) => !string.IsNullOrEmpty(options.ConnectionString)
        ? Authentication.AccountKey
        : options.Endpoint is not null
            ? Authentication.ManagedIdentity
            : throw new InvalidOperationException("Set LlmTrace:Cosmos:ConnectionString, or LlmTrace:Cosmos:Endpoint for managed identity.");

    public static CosmosClient Create(CosmosOptions options, Action<CosmosClientOptions>? configure = null)
    {
        var clientOptions = new CosmosClientOptions
        {
            ApplicationName = "LlmTrace",
            // The store works on streams with its own System.Text.Json contracts; nothing goes through the SDK's serializer.
            UseSystemTextJsonSerializerWithOptions = new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web),
            EnableContentResponseOnWrite = false,
        };
        configure?.Invoke(clientOptions);
        return AuthenticationFor(options) == Authentication.AccountKey
            ? new CosmosClient(options.ConnectionString, clientOptions)
            : new CosmosClient(options.Endpoint!.ToString(), new DefaultAzureCredential(), clientOptions);
    }

    public static Container Container(CosmosClient client, IOptions<CosmosOptions> options)
        => client.GetContainer(options.Value.Database, options.Value.Container);
}
