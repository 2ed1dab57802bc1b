namespace LlmTrace.Domain.Capture;

/// <summary>
/// The durable fallback of a remote capture queue: a trace that could not be enqueued is parked here, and the timer puts
/// it back on the queue later.
/// </summary>
public interface IParkedCaptureStore
{
    Task ParkAsync(Trace trace, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="max"/> parked traces, oldest first, with the reference to remove each.</summary>
    Task<IReadOnlyList<(string Reference, Trace Trace)>> ListAsync(int max, CancellationToken cancellationToken);

    Task RemoveAsync(string reference, CancellationToken cancellationToken);
}
