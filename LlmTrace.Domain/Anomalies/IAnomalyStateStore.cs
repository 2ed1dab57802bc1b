using LlmTrace.Domain.Capture;

namespace LlmTrace.Domain.Anomalies;

/// <summary>
/// Per-tenant anomaly state. <see cref="ApplyAsync"/> folds traces into their tenant's state exactly once per trace id and
/// returns each trace's findings; a trace seen before gets the findings recorded the first time.
/// </summary>
public interface IAnomalyStateStore
{
    Task<IReadOnlyList<IReadOnlyList<Finding>>> ApplyAsync(IReadOnlyList<Trace> traces, AnomalyDetector detector, CancellationToken cancellationToken);
}
