using LlmTrace.Domain.Processing;
using Microsoft.Azure.Functions.Worker;

namespace LlmTrace.Functions.Processing;

/// <summary>Messages that failed every retry: stored whole, logged and alerted on, never dropped.</summary>
public sealed class PoisonFunctions(PoisonHandler handler)
{
    [Function("CapturesPoison")]
    public Task CapturesAsync(
        [QueueTrigger(QueueNames.Captures + QueueNames.PoisonSuffix)] string message, string id, long dequeueCount, CancellationToken cancellationToken)
        => handler.HandleAsync(QueueNames.Captures, id, message, dequeueCount, cancellationToken);

    [Function("AnomalyPoison")]
    public Task AnomalyAsync(
        [QueueTrigger(QueueNames.Anomaly + QueueNames.PoisonSuffix)] string message, string id, long dequeueCount, CancellationToken cancellationToken)
        => handler.HandleAsync(QueueNames.Anomaly, id, message, dequeueCount, cancellationToken);

    [Function("SecurityPoison")]
    public Task SecurityAsync(
        [QueueTrigger(QueueNames.Security + QueueNames.PoisonSuffix)] string message, string id, long dequeueCount, CancellationToken cancellationToken)
        => handler.HandleAsync(QueueNames.Security, id, message, dequeueCount, cancellationToken);
}
