namespace LlmTrace.Domain.Capture;

/// <summary>
/// A bounded in-memory trace store (newest <c>capacity</c> traces). Used by tests and by the Functions host until its
/// Cosmos DB adapter is configured; not durable.
/// </summary>
public sealed class InMemoryTraceStore(int capacity = 100_000) : ITraceStore
{
    private readonly Lock _gate = new();
    private readonly SortedDictionary<(long StartedAtMs, Guid TraceId), Trace> _ordered = new(Comparer<(long, Guid)>.Create((a, b) => b.CompareTo(a)));
    private readonly Dictionary<Guid, Trace> _byId = [];

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _byId.Count;
            }
        }
    }

    public Task UpsertAsync(IReadOnlyList<Trace> traces, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            foreach (var trace in traces)
            {
                if (_byId.Remove(trace.TraceId, out var previous))
                {
                    _ordered.Remove(Key(previous));
                }

                _byId[trace.TraceId] = trace;
                _ordered[Key(trace)] = trace;
            }

            while (_byId.Count > capacity)
            {
                var oldest = _ordered.Last();
                _ordered.Remove(oldest.Key);
                _byId.Remove(oldest.Value.TraceId);
            }
        }

        return Task.CompletedTask;
    }

    public Task<Trace?> GetAsync(Guid traceId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_byId.GetValueOrDefault(traceId));
        }
    }

    public Task<TracePage> QueryAsync(TraceQuery query, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var items = new List<Trace>(Math.Min(query.Limit, 1024));
            string? token = null;
            foreach (var (key, trace) in _ordered)
            {
                if (query.After is { } after && ((key.StartedAtMs, key.TraceId).CompareTo((after.StartedAt.ToUnixTimeMilliseconds(), after.TraceId)) >= 0))
                {
                    continue;
                }

                if (!TraceFilter.Matches(query, trace))
                {
                    continue;
                }

                if (items.Count == query.Limit)
                {
                    var last = items[^1];
                    token = new TraceCursor(last.StartedAt, last.TraceId).Encode();
                    break;
                }

                items.Add(trace);
            }

            return Task.FromResult(new TracePage(items, token));
        }
    }

    public Task PingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static (long, Guid) Key(Trace trace) => (trace.StartedAt.ToUnixTimeMilliseconds(), trace.TraceId);
}
