using LlmTrace.Domain.Anomalies;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Costs;
using LlmTrace.Domain.Security;
using LlmTrace.Domain.Stats;

namespace LlmTrace.Domain.Processing;

/// <summary>
/// The whole processing path in one process: cost accounting, then anomaly detection (which judges cost), then
/// security analysis, then the store. The Azure host runs the same stages as separate queue-triggered functions.
/// Writes go through the trace store's breaker: while the store keeps failing, a batch fails at once instead of waiting
/// on it, and stays where it is (the capture journal, the queue) until a probe finds the store back.
/// </summary>
public sealed class TracePipeline(
    CostAccountingStage costs,
    AnomalyDetectionStage anomalies,
    SecurityAnalysisStage security,
    ITraceStore store,
    ITrafficStatsStore stats,
    Resilience.Breakers breakers,
    TimeProvider timeProvider) : ITraceProcessor
{
    /// <summary>The breaker every trace write goes through, on both hosts.</summary>
    public const string StoreBreaker = "trace store";

    // Only outages count: a trace that fails for a reason of its own must reach the poison path, not open the breaker.
    private readonly Resilience.Breaker _storeBreaker = breakers.For(StoreBreaker, CaptureConsumer.IsTransient);

    public IReadOnlyList<ITraceStage> Stages { get; } = [costs, anomalies, security];

    public async Task ProcessAsync(IReadOnlyList<Trace> traces, CancellationToken cancellationToken)
    {
        var current = traces;
        foreach (var stage in Stages)
        {
            current = await stage.ProcessAsync(current, cancellationToken).ConfigureAwait(false);
        }

        await StoreAsync(current, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Upserts through the trace store's breaker, then folds the traces into the dashboard's counters. Both are
    /// idempotent by trace id, so a batch retried after a failure between them is stored once and counted once.
    /// </summary>
    public async Task StoreAsync(IReadOnlyList<Trace> traces, CancellationToken cancellationToken)
        => await _storeBreaker.ExecuteAsync(
            async token =>
            {
                await store.UpsertAsync(traces, token).ConfigureAwait(false);
                await stats.ApplyAsync(traces, timeProvider, token).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);
}
