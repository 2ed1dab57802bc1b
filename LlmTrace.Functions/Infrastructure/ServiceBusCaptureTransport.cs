using Azure.Messaging.ServiceBus;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Processing;

namespace LlmTrace.Functions.Infrastructure;

/// <summary>
/// Azure Service Bus as the capture queue and the stage queues (same queue names as Storage Queues). The SDK retries
/// transient failures; a capture that still fails goes the way <see cref="CaptureDelivery"/> describes.
/// Messages over the claim-check limit (256 KiB on the standard tier) travel as claim checks. Each message's id is the
/// trace id and stage, so duplicate detection on the queue drops a resend.
/// </summary>
public sealed class ServiceBusCaptureTransport(ServiceBusClient client, CaptureMessageCodec codec, CaptureDelivery delivery)
    : ICaptureQueue, IStageQueue, IAsyncDisposable
{
    /// <summary>Inline limit for Service Bus standard (256 KiB per message), leaving room for headers.</summary>
    public const int InlineLimit = 240 * 1024;

    private readonly Dictionary<string, ServiceBusSender> _senders = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public ValueTask EnqueueAsync(Trace trace, CancellationToken cancellationToken) => delivery.DeliverAsync(trace, SendCaptureAsync, cancellationToken);

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

    private async Task SendCaptureAsync(Trace trace, CancellationToken cancellationToken)
    {
        var body = await codec.EncodeAsync(trace, cancellationToken).ConfigureAwait(false);
        await Sender(QueueNames.Captures).SendMessageAsync(Message(body, trace.TraceId, "captured"), cancellationToken).ConfigureAwait(false);
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
