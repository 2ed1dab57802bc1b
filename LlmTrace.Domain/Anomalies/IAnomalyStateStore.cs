using LlmTrace.Domain.Folding;

namespace LlmTrace.Domain.Anomalies;

/// <summary>
/// Per-tenant anomaly state, one row per tenant. Traces are folded into it by <see cref="ExactlyOnceFold"/> with
/// <see cref="AnomalyFold"/>: exactly once per trace id, and a trace seen before gets the findings recorded the first time.
/// </summary>
public interface IAnomalyStateStore : IFoldStore<Guid, AnomalyState>;
