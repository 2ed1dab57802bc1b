namespace LlmTrace.Domain.Capture;

/// <summary>Hands finished traces to the processing side. Implementations must not lose an accepted trace.</summary>
public interface ICaptureQueue
{
    /// <summary>Accepts a trace. May wait for room (back-pressure); never called with the client's abort token.</summary>
    ValueTask EnqueueAsync(Trace trace, CancellationToken cancellationToken);
}
