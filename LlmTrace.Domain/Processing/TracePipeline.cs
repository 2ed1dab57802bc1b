using LlmTrace.Domain.Anomalies;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Costs;
using LlmTrace.Domain.Security;

namespace LlmTrace.Domain.Processing;

/// <summary>
/// The whole processing path in one process: cost accounting, then anomaly detection (which judges cost), then
/// security analysis, then the store. The Azure host runs the same stages as separate queue-triggered functions.
/// </summary>
public sealed class TracePipeline(CostAccountingStage costs, AnomalyDetectionStage anomalies, SecurityAnalysisStage security, ITraceStore store) : ITraceProcessor
{
    public IReadOnlyList<ITraceStage> Stages { get; } = [costs, anomalies, security];

    public async Task ProcessAsync(IReadOnlyList<Trace> traces, CancellationToken cancellationToken)
    {
        var current = traces;
        foreach (var stage in Stages)
        {
            current = await stage.ProcessAsync(current, cancellationToken).ConfigureAwait(false);
        }

        await store.UpsertAsync(current, cancellationToken).ConfigureAwait(false);
    }
}
