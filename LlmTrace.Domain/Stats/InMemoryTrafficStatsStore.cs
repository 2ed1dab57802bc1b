using LlmTrace.Domain.Capture;

namespace LlmTrace.Domain.Stats;

/// <summary>Traffic counters in process memory: for tests and the Functions host's in-process mode.</summary>
public sealed class InMemoryTrafficStatsStore : ITrafficStatsStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<StatsKey, TrafficCounters> _rows = [];
    private readonly Dictionary<Guid, DateTimeOffset> _applied = [];

    public Task ApplyAsync(IReadOnlyList<Trace> traces, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            foreach (var trace in traces)
            {
                if (!_applied.TryAdd(trace.TraceId, trace.StartedAt))
                {
                    continue;
                }

                foreach (var key in TrafficStats.KeysOf(trace))
                {
                    if (!_rows.TryGetValue(key, out var counters))
                    {
                        _rows[key] = counters = new TrafficCounters();
                    }

                    TrafficStats.Fold(counters, key, trace);
                }
            }
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<TrafficBucket>> ReadAsync(string scope, StatsResolution resolution, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            // Copies, so a reader merging buckets never sees (or changes) counters a writer is folding into.
            IReadOnlyList<TrafficBucket> buckets =
            [
                .. _rows.Where(r => r.Key.Scope == scope && r.Key.Resolution == resolution && r.Key.Start >= from && r.Key.Start < to)
                    .OrderBy(r => r.Key.Start)
                    .Select(r => new TrafficBucket(r.Key.Start, TrafficStats.Deserialize(TrafficStats.Serialize(r.Value)))),
            ];
            return Task.FromResult(buckets);
        }
    }

    public Task<int> PruneAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var rows = _rows.Keys.Where(k => k.Resolution == StatsResolution.Minute && k.Start < now - TrafficStats.MinuteRowsKept).ToList();
            var markers = _applied.Where(a => a.Value < now - TrafficStats.MarkersKept).Select(a => a.Key).ToList();
            rows.ForEach(k => _rows.Remove(k));
            markers.ForEach(k => _applied.Remove(k));
            return Task.FromResult(rows.Count + markers.Count);
        }
    }
}
