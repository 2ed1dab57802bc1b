using System.Diagnostics.Metrics;
using LlmTrace.Domain.Capture;
using Microsoft.Extensions.Logging;

namespace LlmTrace.Functions.Infrastructure;

/// <summary>
/// How a capture reaches a remote queue, whichever the transport: send it (the SDK retries transient failures); if that
/// still fails, park it in Blob Storage for the timer to re-enqueue; if the park fails too, hold it in the
/// <see cref="CaptureOutbox"/> until storage answers. The window in which a capture can still be lost is therefore a
/// storage outage that outlasts the instance (or fills the outbox).
/// </summary>
public sealed class CaptureDelivery(IParkedCaptureStore parked, CaptureOutbox outbox, ILogger<CaptureDelivery> logger)
{
    private static readonly Meter Meter = new("LlmTrace.Capture.Azure");
    private static readonly Counter<long> ParkedCount = Meter.CreateCounter<long>(
        "llmtrace.capture.parked", description: "Captures parked after the queue refused them.");

    public delegate Task Send(Trace trace, CancellationToken cancellationToken);

    public async ValueTask DeliverAsync(Trace trace, Send send, CancellationToken cancellationToken)
    {
        if (!await TryDeliverAsync(trace, send, cancellationToken).ConfigureAwait(false))
        {
            outbox.Hold(trace, (t, c) => TryDeliverAsync(t, send, c));
        }
    }

    private async Task<bool> TryDeliverAsync(Trace trace, Send send, CancellationToken cancellationToken)
    {
        Exception refusal;
        try
        {
            await send(trace, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            refusal = ex;
        }

        try
        {
            await parked.ParkAsync(trace, cancellationToken).ConfigureAwait(false);
            ParkedCount.Add(1);
            logger.Parked(trace.TraceId, refusal);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.NotParked(trace.TraceId, new AggregateException(refusal, ex));
            return false;
        }
    }
}
