using LlmTrace.Domain.Processing;
using Microsoft.Azure.Functions.Worker;

namespace LlmTrace.Functions.Processing;

/// <summary>
/// The processing stages, each triggered by its queue: cost accounting → anomaly detection → security analysis, which
/// stores the finished trace. Failures throw, so the message is retried and, after <c>maxDequeueCount</c>, poisoned.
/// </summary>
public sealed class ProcessingFunctions(StageRunner runner)
{
    [Function("CostAccounting")]
    public Task CostAsync([QueueTrigger(QueueNames.Captures)] string message, CancellationToken cancellationToken)
        => runner.RunAsync("cost", message, cancellationToken);

    [Function("AnomalyDetection")]
    public Task AnomalyAsync([QueueTrigger(QueueNames.Anomaly)] string message, CancellationToken cancellationToken)
        => runner.RunAsync("anomaly", message, cancellationToken);

    [Function("SecurityAnalysis")]
    public Task SecurityAsync([QueueTrigger(QueueNames.Security)] string message, CancellationToken cancellationToken)
        => runner.RunAsync("security", message, cancellationToken);
}
