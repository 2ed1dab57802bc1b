using Microsoft.Extensions.Logging;

namespace LlmTrace.Domain.Capture;

/// <summary>Puts parked captures back on the capture queue (the timer calls it); a trace is removed only once it is enqueued.</summary>
public sealed class ParkedCaptureReplayer(IParkedCaptureStore parked, ICaptureQueue queue, ILogger<ParkedCaptureReplayer> logger)
{
    public async Task<int> ReplayAsync(CancellationToken cancellationToken)
    {
        var replayed = 0;
        foreach (var (reference, trace) in await parked.ListAsync(500, cancellationToken).ConfigureAwait(false))
        {
            await queue.EnqueueAsync(trace, cancellationToken).ConfigureAwait(false);
            await parked.RemoveAsync(reference, cancellationToken).ConfigureAwait(false);
            replayed++;
        }

        if (replayed > 0)
        {
            logger.Replayed(replayed);
        }

        return replayed;
    }
}
