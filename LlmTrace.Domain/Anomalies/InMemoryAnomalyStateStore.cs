using LlmTrace.Domain.Capture;

namespace LlmTrace.Domain.Anomalies;

/// <summary>Anomaly state in process memory: for tests, and for the Functions host until its Table Storage adapter is configured.</summary>
public sealed class InMemoryAnomalyStateStore : IAnomalyStateStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<Guid, AnomalyState> _states = [];
    private readonly Dictionary<Guid, IReadOnlyList<Finding>> _applied = [];

    public Task<IReadOnlyList<IReadOnlyList<Finding>>> ApplyAsync(IReadOnlyList<Trace> traces, AnomalyDetector detector, CancellationToken cancellationToken)
    {
        var results = new List<IReadOnlyList<Finding>>(traces.Count);
        lock (_gate)
        {
            foreach (var trace in traces)
            {
                if (_applied.TryGetValue(trace.TraceId, out var seen))
                {
                    results.Add(seen);
                    continue;
                }

                var (next, findings) = detector.Observe(_states.GetValueOrDefault(trace.TenantId) ?? AnomalyState.Empty, trace);
                _states[trace.TenantId] = next;
                _applied[trace.TraceId] = findings;
                results.Add(findings);
            }
        }

        return Task.FromResult<IReadOnlyList<IReadOnlyList<Finding>>>(results);
    }
}
