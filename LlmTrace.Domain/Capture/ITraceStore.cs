namespace LlmTrace.Domain.Capture;

/// <summary>Durable store of finished traces. Writes are upserts by <see cref="Trace.TraceId"/>.</summary>
public interface ITraceStore
{
    Task UpsertAsync(IReadOnlyList<Trace> traces, CancellationToken cancellationToken);

    Task<Trace?> GetAsync(Guid traceId, CancellationToken cancellationToken);

    /// <summary>Newest first, keyset-paged.</summary>
    Task<TracePage> QueryAsync(TraceQuery query, CancellationToken cancellationToken);

    /// <summary>A cheap round trip used by <c>/health</c>.</summary>
    Task PingAsync(CancellationToken cancellationToken);
}
