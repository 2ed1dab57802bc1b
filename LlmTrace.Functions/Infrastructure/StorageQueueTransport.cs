using System.Diagnostics.Metrics;
using Azure;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Processing;
using Microsoft.Extensions.Logging;

namespace LlmTrace.Functions.Infrastructure;

/// <summary>
/// Azure Storage Queues as the capture queue and the stage queues. Enqueueing retries with exponential backoff (SDK
/// policy); a capture that still fails is parked in Blob Storage for the timer to re-enqueue, and one that cannot be
/// parked either is counted (<c>llmtrace.capture.lost</c>) and logged as critical.
/// </summary>
public sealed class StorageQueueTransport(AzureStorageClients clients, CaptureMessageCodec codec, IParkedCaptureStore parked, ILogger<StorageQueueTransport> logger)
    : ICaptureQueue, IStageQueue
{
    private static readonly Meter Meter = new("LlmTrace.Capture");
    private static readonly Counter<long> Lost = Meter.CreateCounter<long>("llmtrace.capture.lost", description: "Captures that could be neither enqueued nor parked.");
    private static readonly Counter<long> ParkedCount = Meter.CreateCounter<long>("llmtrace.capture.parked", description: "Captures parked after the queue refused them.");

    public async ValueTask EnqueueAsync(Trace trace, CancellationToken cancellationToken)
    {
        try
        {
            var message = await codec.EncodeAsync(trace, cancellationToken).ConfigureAwait(false);
            await clients.Queues.GetQueueClient(QueueNames.Captures).SendMessageAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RequestFailedException or AggregateException or IOException or HttpRequestException or TaskCanceledException)
        {
            await ParkAsync(trace, ex, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task SendAsync(string stage, string message, CancellationToken cancellationToken)
        => await clients.Queues.GetQueueClient(QueueNames.ForStage(stage)).SendMessageAsync(message, cancellationToken).ConfigureAwait(false);

    private async Task ParkAsync(Trace trace, Exception cause, CancellationToken cancellationToken)
    {
        try
        {
            await parked.ParkAsync(trace, cancellationToken).ConfigureAwait(false);
            ParkedCount.Add(1);
            logger.Parked(trace.TraceId, cause);
        }
        catch (Exception ex) when (ex is RequestFailedException or AggregateException or IOException or HttpRequestException or TaskCanceledException)
        {
            Lost.Add(1);
            logger.Lost(trace.TraceId, new AggregateException(cause, ex));
        }
    }
}
