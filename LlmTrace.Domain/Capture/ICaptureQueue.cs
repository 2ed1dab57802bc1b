namespace LlmTrace.Domain.Capture;

/// <summary>Hands finished traces to the processing side. Implementations must not lose an accepted trace.</summary>
public interface ICaptureQueue
{
    /// <summary>Accepts a trace. May wait for room (back-pressure); never called with the client's abort token.</summary>
    ValueTask EnqueueAsync(Trace trace, CancellationToken cancellationToken);

    /// <summary>
    /// A call is about to be forwarded: a durable queue may note it (without its text), so that if the process dies
    /// before the call's trace is accepted, the call is still recorded as interrupted. Must not wait.
    /// </summary>
    void Started(Trace interrupted)
    {
    }
}
