using Azure;
using LlmTrace.Domain.Processing;

namespace LlmTrace.Functions.Infrastructure;

/// <summary>Poison messages as blobs: <c>{queue}/{messageId}.json</c> in the poison container; the reference is <c>{container}/{blob}</c>.</summary>
public sealed class BlobPoisonStore(AzureStorageClients clients) : IPoisonStore
{
    public async Task<string> SaveAsync(string queue, string messageId, string message, CancellationToken cancellationToken)
    {
        var name = $"{queue}/{messageId}.json";
        await clients.Poison.GetBlobClient(name).UploadAsync(BinaryData.FromString(message), overwrite: true, cancellationToken).ConfigureAwait(false);
        return $"{clients.Poison.Name}/{name}";
    }

    public async Task<IReadOnlyList<PoisonEntry>> ListAsync(int max, CancellationToken cancellationToken)
    {
        var names = new List<(string Name, DateTimeOffset At)>();
        await foreach (var blob in clients.Poison.GetBlobsAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            names.Add((blob.Name, blob.Properties.LastModified ?? DateTimeOffset.MinValue));
        }

        var entries = new List<PoisonEntry>();
        foreach (var (name, _) in names.OrderBy(n => n.At).ThenBy(n => n.Name, StringComparer.Ordinal).Take(max))
        {
            if (await GetAsync($"{clients.Poison.Name}/{name}", cancellationToken).ConfigureAwait(false) is { } entry)
            {
                entries.Add(entry);
            }
        }

        return entries;
    }

    public async Task<PoisonEntry?> GetAsync(string reference, CancellationToken cancellationToken)
    {
        if (BlobName(reference) is not { } name)
        {
            return null;
        }

        try
        {
            var download = await clients.Poison.GetBlobClient(name).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            var slash = name.IndexOf('/');
            return new PoisonEntry(
                reference,
                name[..slash],
                Path.GetFileNameWithoutExtension(name[(slash + 1)..]),
                download.Value.Details.LastModified,
                download.Value.Content.ToString());
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    public async Task RemoveAsync(string reference, CancellationToken cancellationToken)
    {
        if (BlobName(reference) is { } name)
        {
            await clients.Poison.DeleteBlobIfExistsAsync(name, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The blob name of a reference to this container, or null for anything else.</summary>
    private string? BlobName(string reference)
    {
        var prefix = clients.Poison.Name + "/";
        var name = reference.StartsWith(prefix, StringComparison.Ordinal) ? reference[prefix.Length..] : null;
        return name is not null && name.Contains('/', StringComparison.Ordinal) && !name.Contains("..", StringComparison.Ordinal) ? name : null;
    }
}
