using LlmTrace.Domain.Folding;

namespace LlmTrace.Domain.Stats;

/// <summary>Traffic counters in process memory: for tests and the Functions host's in-process mode.</summary>
public sealed class InMemoryTrafficStatsStore()
    : InMemoryFoldStore<StatsKey, TrafficCounters>(counters => TrafficStats.Deserialize(TrafficStats.Serialize(counters))), ITrafficStatsStore
{
    public Task<IReadOnlyList<TrafficBucket>> ReadAsync(
        string scope, StatsResolution resolution, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
        => Task.FromResult(Access<IReadOnlyList<TrafficBucket>>((rows, _) =>
        [
            .. rows.Where(r => r.Key.Scope == scope && r.Key.Resolution == resolution && r.Key.Start >= from && r.Key.Start < to)
                .OrderBy(r => r.Key.Start)
                .Select(r => new TrafficBucket(r.Key.Start, Copy(r.Value))),
        ]));

    public Task<int> PruneAsync(DateTimeOffset now, CancellationToken cancellationToken)
        => Task.FromResult(Access((rows, markers) =>
        {
            var oldRows = rows.Keys.Where(k => k.Resolution == StatsResolution.Minute && k.Start < now - TrafficStats.MinuteRowsKept).ToList();
            var oldMarkers = markers.Values.Where(m => m.At < now - TrafficStats.MarkersKept).Select(m => m.Id).ToList();
            oldRows.ForEach(k => rows.Remove(k));
            oldMarkers.ForEach(id => markers.Remove(id));
            return oldRows.Count + oldMarkers.Count;
        }));
}
