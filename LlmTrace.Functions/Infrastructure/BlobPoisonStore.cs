using LlmTrace.Domain.Processing;

namespace LlmTrace.Functions.Infrastructure;

/// <summary>Poison messages as blobs: <c>{queue}/{messageId}.json</c> in the poison container.</summary>
public sealed class BlobPoisonStore(AzureStorageClients clients) : IPoisonStore
{
    public async Task<string> SaveAsync(string queue, string messageId, string message, CancellationToken cancellationToken)
    {
        var name = $"{queue}/{messageId}.json";
        await clients.Poison.GetBlobClient(name).UploadAsync(BinaryData.FromString(message), overwrite: true, cancellationToken).ConfigureAwait(false);
        return $"{clients.Poison.Name}/{name}";
    }
}
