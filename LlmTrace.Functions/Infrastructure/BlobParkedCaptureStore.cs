using System.Text.Json;
using LlmTrace.Domain.Capture;

namespace LlmTrace.Functions.Infrastructure;

/// <summary>Parked captures as blobs named by trace id (parking the same trace twice keeps one copy).</summary>
public sealed class BlobParkedCaptureStore(AzureStorageClients clients) : IParkedCaptureStore
{
    public async Task ParkAsync(Trace trace, CancellationToken cancellationToken)
        => await clients.Parked.GetBlobClient($"{trace.TraceId:N}.json")
            .UploadAsync(BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(trace, CaptureJsonContext.Default.Trace)), overwrite: true, cancellationToken)
            .ConfigureAwait(false);

    public async Task<IReadOnlyList<(string Reference, Trace Trace)>> ListAsync(int max, CancellationToken cancellationToken)
    {
        var found = new List<(string, Trace)>();
        await foreach (var item in clients.Parked.GetBlobsAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            var content = await clients.Parked.GetBlobClient(item.Name).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            if (JsonSerializer.Deserialize(content.Value.Content.ToMemory().Span, CaptureJsonContext.Default.Trace) is { } trace)
            {
                found.Add((item.Name, trace));
            }

            if (found.Count >= max)
            {
                break;
            }
        }

        return found;
    }

    public async Task RemoveAsync(string reference, CancellationToken cancellationToken)
        => await clients.Parked.GetBlobClient(reference).DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
}
