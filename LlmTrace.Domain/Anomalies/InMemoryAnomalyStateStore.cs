using LlmTrace.Domain.Folding;

namespace LlmTrace.Domain.Anomalies;

/// <summary>Anomaly state in process memory: for tests, and for the Functions host until its Table Storage adapter is configured.</summary>
public sealed class InMemoryAnomalyStateStore : InMemoryFoldStore<Guid, AnomalyState>, IAnomalyStateStore;
