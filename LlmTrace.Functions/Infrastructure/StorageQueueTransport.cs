using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Processing;

namespace LlmTrace.Functions.Infrastructure;

/// <summary>
/// Azure Storage Queues as the capture queue and the stage queues. A capture that the queue refuses even after the
/// SDK's retries goes the way <see cref="CaptureDelivery"/> describes: parked, or held until storage answers.
/// </summary>
public sealed class StorageQueueTransport(AzureStorageClients clients, CaptureMessageCodec codec, CaptureDelivery delivery)
    : ICaptureQueue, IStageQueue
{
    public ValueTask EnqueueAsync(Trace trace, CancellationToken cancellationToken) => delivery.DeliverAsync(trace, SendCaptureAsync, cancellationToken);

    public async Task SendAsync(string stage, string message, CancellationToken cancellationToken)
        => await clients.Queues.GetQueueClient(QueueNames.ForStage(stage)).SendMessageAsync(message, cancellationToken).ConfigureAwait(false);

    private async Task SendCaptureAsync(Trace trace, CancellationToken cancellationToken)
    {
        var message = await codec.EncodeAsync(trace, cancellationToken).ConfigureAwait(false);
        await clients.Queues.GetQueueClient(QueueNames.Captures).SendMessageAsync(message, cancellationToken).ConfigureAwait(false);
    }
}
