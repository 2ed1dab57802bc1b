using LlmTrace.Domain.Capture;

namespace LlmTrace.Domain.Processing;

/// <summary>
/// One processing step over finished traces (cost accounting, anomaly detection, security analysis). Stages are
/// idempotent: the same traces processed twice leave the same state and return the same result.
/// </summary>
public interface ITraceStage
{
    string Name { get; }

    /// <summary>Returns the traces enriched by this stage, in the same order.</summary>
    Task<IReadOnlyList<Trace>> ProcessAsync(IReadOnlyList<Trace> traces, CancellationToken cancellationToken);
}
