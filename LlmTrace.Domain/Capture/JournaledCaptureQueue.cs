using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LlmTrace.Domain.Capture;

/// <summary>
/// The in-process capture queue with the journal in front: a trace is appended to <see cref="CaptureJournal"/> before
/// it is queued, so a crash after the client's answer cannot lose it. If the journal cannot be written (a full disk),
/// the trace still goes on through the queue and the failure is logged: the call is never failed for it.
/// </summary>
internal sealed class JournaledCaptureQueue(ChannelCaptureQueue queue, CaptureJournal journal, ILogger<JournaledCaptureQueue> logger) : ICaptureQueue
{
    public async ValueTask EnqueueAsync(Trace trace, CancellationToken cancellationToken)
    {
        try
        {
            await journal.AppendAsync(trace, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            logger.JournalSkipped(trace.TraceId);
        }

        await queue.EnqueueAsync(trace, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Not awaited: the record is written long before an upstream answer could reach the client.</summary>
    public void Started(Trace interrupted) => _ = ObserveAsync(journal.AppendAsync(interrupted, CancellationToken.None, started: true), interrupted.TraceId);

    private async Task ObserveAsync(Task append, Guid traceId)
    {
        try
        {
            await append.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            logger.JournalSkipped(traceId);
        }
    }
}

/// <summary>At start-up, puts the traces a previous run journaled but did not finish back through the pipeline.</summary>
internal sealed class CaptureJournalRecovery(CaptureJournal journal, ChannelCaptureQueue queue, Management.StartupReadiness readiness) : IHostedService
{
    private Task? _replay;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var recovered = journal.Recover();
        // The queue is bounded and its consumer may not run yet: hand the traces over in the background.
        _replay = recovered.Count == 0 ? Task.CompletedTask : Task.Run(
            async () =>
            {
                foreach (var trace in recovered)
                {
                    await queue.EnqueueAsync(trace, CancellationToken.None).ConfigureAwait(false);
                }
            },
            CancellationToken.None);
        readiness.Track("journal replay", _replay);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => _replay ?? Task.CompletedTask;
}
