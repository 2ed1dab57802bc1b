using Azure;
using LlmTrace.Domain.Processing;

namespace LlmTrace.Functions.Infrastructure;

/// <summary>Claim checks as blobs in the claim-check container; the reference is the blob name.</summary>
public sealed class BlobClaimCheckStore(AzureStorageClients clients) : IClaimCheckStore
{
    public async Task<string> PutAsync(string name, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        await clients.ClaimChecks.GetBlobClient(name).UploadAsync(BinaryData.FromBytes(payload), overwrite: true, cancellationToken).ConfigureAwait(false);
        return name;
    }

    public async Task<byte[]> GetAsync(string reference, CancellationToken cancellationToken)
    {
        var content = await clients.ClaimChecks.GetBlobClient(reference).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
        return content.Value.Content.ToArray();
    }

    public async Task DeleteAsync(string reference, CancellationToken cancellationToken)
    {
        try
        {
            await clients.ClaimChecks.GetBlobClient(reference).DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Already gone (a redelivered final stage): nothing to do.
        }
    }
}
