using LlmTrace.Domain.Processing;
using Microsoft.Azure.Functions.Worker;

namespace LlmTrace.Functions.Processing;

/// <summary>
/// The processing stages on Service Bus (build with <c>-p:CaptureTransport=ServiceBus</c>): the same one-line adapters
/// over <see cref="StageRunner"/>. Service Bus moves a message that fails <c>MaxDeliveryCount</c> times to the queue's
/// dead-letter sub-queue; the dead-letter functions store and alert on it.
/// </summary>
public sealed class ServiceBusProcessingFunctions(StageRunner runner, PoisonHandler poison)
{
    private const string Connection = "LlmTrace:ServiceBus";

    [Function("CostAccounting")]
    public Task CostAsync([ServiceBusTrigger(QueueNames.Captures, Connection = Connection)] string message, CancellationToken cancellationToken)
        => runner.RunAsync("cost", message, cancellationToken);

    [Function("AnomalyDetection")]
    public Task AnomalyAsync([ServiceBusTrigger(QueueNames.Anomaly, Connection = Connection)] string message, CancellationToken cancellationToken)
        => runner.RunAsync("anomaly", message, cancellationToken);

    [Function("SecurityAnalysis")]
    public Task SecurityAsync([ServiceBusTrigger(QueueNames.Security, Connection = Connection)] string message, CancellationToken cancellationToken)
        => runner.RunAsync("security", message, cancellationToken);

    [Function("CapturesDeadLetter")]
    public Task CapturesDeadLetterAsync(
        [ServiceBusTrigger(QueueNames.Captures + "/$deadletterqueue", Connection = Connection)] string message,
        string messageId,
        int deliveryCount,
        CancellationToken cancellationToken)
        => poison.HandleAsync(QueueNames.Captures, messageId, message, deliveryCount, cancellationToken);

    [Function("AnomalyDeadLetter")]
    public Task AnomalyDeadLetterAsync(
        [ServiceBusTrigger(QueueNames.Anomaly + "/$deadletterqueue", Connection = Connection)] string message,
        string messageId,
        int deliveryCount,
        CancellationToken cancellationToken)
        => poison.HandleAsync(QueueNames.Anomaly, messageId, message, deliveryCount, cancellationToken);

    [Function("SecurityDeadLetter")]
    public Task SecurityDeadLetterAsync(
        [ServiceBusTrigger(QueueNames.Security + "/$deadletterqueue", Connection = Connection)] string message,
        string messageId,
        int deliveryCount,
        CancellationToken cancellationToken)
        => poison.HandleAsync(QueueNames.Security, messageId, message, deliveryCount, cancellationToken);
}
