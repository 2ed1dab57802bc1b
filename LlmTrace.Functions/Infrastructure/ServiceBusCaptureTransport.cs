using System.Diagnostics.Metrics;
using Azure.Messaging.ServiceBus;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Processing;
using Microsoft.Extensions.Logging;

namespace LlmTrace.Functions.Infrastructure;

/// <summary>
/// Azure Service Bus as the capture queue and the stage queues (same queue names as Storage Queues). The SDK retries
/// transient failures; a capture that still fails is parked for the timer, like <see cref="StorageQueueTransport"/>.
/// Messages over the claim-check limit (256 KiB on the standard tier) travel as claim checks. Each message's id is the
/// trace id and stage, so duplicate detection on the queue drops a resend.
/// </summary>
public sealed class ServiceBusCaptureTransport(ServiceBusClient client, CaptureMessageCodec codec, IParkedCaptureStore parked, ILogger<ServiceBusCaptureTransport> logger)
    : ICaptureQueue, IStageQueue, IAsyncDisposable
{
    /// <summary>Inline limit for Service Bus standard (256 KiB per message), leaving room for headers.</summary>
    public const int InlineLimit = 240 * 1024;

    private static readonly Meter Meter = new("LlmTrace.Capture.ServiceBus");
    private static readonly Counter<long> Lost = Meter.CreateCounter<long>("llmtrace.capture.lost");
    private readonly Dictionary<string, ServiceBusSender> _senders = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public async ValueTask EnqueueAsync(Trace trace, CancellationToken cancellationToken)
    {
        try
        {
            var body = await codec.EncodeAsync(trace, cancellationToken).ConfigureAwait(false);
            await Sender(QueueNames.Captures).SendMessageAsync(Message(body, trace.TraceId, "captured"), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ServiceBusException or IOException or TimeoutException or UnauthorizedAccessException)
        {
            try
            {
                await parked.ParkAsync(trace, cancellationToken).ConfigureAwait(false);
                logger.Parked(trace.TraceId, ex);
            }
            catch (Exception parkFailure) when (parkFailure is Azure.RequestFailedException or IOException or HttpRequestException or AggregateException)
            {
                Lost.Add(1);
                logger.Lost(trace.TraceId, new AggregateException(ex, parkFailure));
            }
        }
    }

    public Task SendAsync(string stage, string message, CancellationToken cancellationToken)
    {
        var traceId = System.Text.Json.JsonDocument.Parse(message).RootElement.GetProperty("traceId").GetGuid();
        return Sender(QueueNames.ForStage(stage)).SendMessageAsync(Message(message, traceId, stage), cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var sender in _senders.Values)
        {
            await sender.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static ServiceBusMessage Message(string body, Guid traceId, string stage) => new(BinaryData.FromString(body))
    {
        ContentType = "application/json",
        MessageId = $"{traceId:N}-{stage}",
        Subject = stage,
    };

    private ServiceBusSender Sender(string queue)
    {
        lock (_gate)
        {
            if (!_senders.TryGetValue(queue, out var sender))
            {
                _senders[queue] = sender = client.CreateSender(queue);
            }

            return sender;
        }
    }
}
