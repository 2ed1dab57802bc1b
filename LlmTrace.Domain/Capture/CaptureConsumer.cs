using LlmTrace.Domain.Processing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Capture;

/// <summary>
/// Drains the in-process capture queue through the processing pipeline (cost, anomalies, security) into the trace
/// store, in batches. A failed batch is retried with backoff (every stage is idempotent); after
/// <see cref="CaptureOptions.MaxAttempts"/> its traces are tried alone and one that keeps failing is set aside as
/// poison, never dropped. It keeps running through the server's shutdown and drains the queue in
/// <see cref="StoppedAsync"/>, after
/// the server has finished its last requests, so no trace of an in-flight call is lost.
/// </summary>
internal sealed class CaptureConsumer(
    ChannelCaptureQueue queue,
    ITraceProcessor processor,
    CaptureJournal journal,
    PoisonHandler poison,
    IOptions<CaptureOptions> options,
    TimeProvider timeProvider,
    ILogger<CaptureConsumer> logger) : IHostedLifecycleService, IDisposable
{
    private readonly CancellationTokenSource _abandon = new();
    private readonly BackgroundScheduler? _background = options.Value.ProcessingPriority == ProcessingPriority.Background
        ? new BackgroundScheduler("LlmTrace capture processing")
        : null;
    /// <summary>
    /// The most traces one batch takes on the background thread. A niced thread on a busy machine gets a tenth of a
    /// core; a short batch keeps the time until the backlog check comes round again short (a batch of 256 could hold
    /// processing at that pace for seconds while the queue grew).
    /// </summary>
    internal const int BackgroundBatchLimit = 32;

    private Task? _loop;
    private int _drainedOnShutdown;
    private bool _stopping;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loop = Task.Run(() => RunAsync(_abandon.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Runs after every hosted service (the web server included) has stopped: close the queue and drain it.</summary>
    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        queue.Complete();
        if (_loop is null)
        {
            return;
        }

        var timeout = TimeSpan.FromSeconds(options.Value.DrainTimeoutSeconds);
        try
        {
            await _loop.WaitAsync(timeout, timeProvider, CancellationToken.None).ConfigureAwait(false);
            logger.Drained(_drainedOnShutdown);
        }
        catch (TimeoutException)
        {
            logger.DrainTimedOut(queue.Count);
            await _abandon.CancelAsync().ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        _abandon.Dispose();
        _background?.Dispose();
    }

    private async Task RunAsync(CancellationToken abandon)
    {
        var lowered = _background is not null && await _background.Lowered.ConfigureAwait(false);
        if (_background is not null && !lowered)
        {
            logger.ProcessingPriorityUnchanged();
        }

        var delay = TimeSpan.FromMilliseconds(options.Value.BatchDelayMilliseconds ?? (lowered ? 0 : 20));

        var batch = new List<Trace>(options.Value.BatchSize);
        var reader = queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(abandon).ConfigureAwait(false))
            {
                // In the background while processing keeps up, a short batch at a time, so the check comes round again
                // soon even when a busy machine gives the background thread little time; once a backlog is waiting, a
                // full batch at the request path's priority, so it is worked off instead of growing until callers wait
                // for room in the queue.
                var background = InBackground(reader.Count);
                var limit = background ? Math.Min(options.Value.BatchSize, BackgroundBatchLimit) : options.Value.BatchSize;
                Fill(reader, batch, limit);
                if (batch.Count < limit && delay > TimeSpan.Zero && !_stopping)
                {
                    await Task.Delay(delay, timeProvider, abandon).ConfigureAwait(false);
                    if (background && !InBackground(reader.Count))
                    {
                        background = false;
                        limit = options.Value.BatchSize;
                    }

                    Fill(reader, batch, limit);
                }

                var work = background
                    ? _background!.Run(() => WriteWithRetryAsync(batch, abandon))
                    : WriteWithRetryAsync(batch, abandon);
                await work.ConfigureAwait(ConfigureAwaitOptions.ForceYielding); // the loop itself never stays on the background thread
                if (_stopping)
                {
                    _drainedOnShutdown += batch.Count;
                }

                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (abandon.IsCancellationRequested)
        {
            // Shutdown gave up waiting; DrainTimedOut was logged with the count left behind.
        }
    }

    /// <summary>
    /// Processing is behind once a full batch more is waiting, or half the queue when the queue is smaller than a batch
    /// (a queue of 32 with batches of 256 would otherwise fill while processing still yields).
    /// </summary>
    internal static bool IsBehind(int queued, int batchSize, int capacity) => queued >= Math.Max(1, Math.Min(batchSize, capacity / 2));

    private bool InBackground(int queued) => _background is not null && !IsBehind(queued, options.Value.BatchSize, queue.Capacity);

    private static void Fill(System.Threading.Channels.ChannelReader<Trace> reader, List<Trace> batch, int limit)
    {
        while (batch.Count < limit && reader.TryRead(out var trace))
        {
            batch.Add(trace);
        }
    }

    private async Task WriteWithRetryAsync(List<Trace> batch, CancellationToken abandon)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await processor.ProcessAsync(batch, abandon).ConfigureAwait(false);
                journal.Acknowledge(batch.Select(t => t.TraceId));
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !abandon.IsCancellationRequested)
            {
                if (attempt >= options.Value.MaxAttempts && !IsTransient(ex) && await IsolateAsync(batch, abandon).ConfigureAwait(false))
                {
                    return;
                }

                var delay = Backoff(attempt);
                logger.StoreWriteFailed(batch.Count, attempt, (long)delay.TotalMilliseconds, ex);
                await Task.Delay(delay, timeProvider, abandon).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Tries each trace of a failing batch alone. The ones that keep failing for a reason of their own are set aside as
    /// poison (stored whole, alerted on, acknowledged), so one bad trace cannot stall every other. False when a failure
    /// looks like an outage (the store, the disk): then the whole batch is retried, and nothing is set aside.
    /// </summary>
    private async Task<bool> IsolateAsync(List<Trace> batch, CancellationToken abandon)
    {
        foreach (var trace in batch)
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await processor.ProcessAsync([trace], abandon).ConfigureAwait(false);
                    journal.Acknowledge([trace.TraceId]);
                    break;
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !abandon.IsCancellationRequested)
                {
                    if (IsTransient(ex))
                    {
                        return false;
                    }

                    if (attempt >= options.Value.MaxAttempts)
                    {
                        var message = System.Text.Json.JsonSerializer.Serialize(trace, CaptureJsonContext.Default.Trace);
                        await poison.HandleAsync(PoisonReplayer.InProcessQueue, trace.TraceId.ToString(), message, attempt, abandon).ConfigureAwait(false);
                        journal.Acknowledge([trace.TraceId]);
                        break;
                    }

                    await Task.Delay(Backoff(attempt), timeProvider, abandon).ConfigureAwait(false);
                }
            }
        }

        return true;
    }

    private static TimeSpan Backoff(int attempt) => TimeSpan.FromMilliseconds(Math.Min(30_000, 100 * Math.Pow(2, Math.Min(attempt, 10))));

    /// <summary>A failure of the infrastructure (a busy or locked database, a full disk, a network error), not of the trace.</summary>
    internal static bool IsTransient(Exception exception) => exception switch
    {
        System.Data.Common.DbException db => db.IsTransient
            || db.Message.Contains("disk", StringComparison.OrdinalIgnoreCase)
            || db.Message.Contains("locked", StringComparison.OrdinalIgnoreCase)
            || db.Message.Contains("busy", StringComparison.OrdinalIgnoreCase),
        IOException or TimeoutException or HttpRequestException or OperationCanceledException or UnauthorizedAccessException => true,
        Polly.ExecutionRejectedException => true, // an open breaker: the store is out, not the trace
        Azure.RequestFailedException { Status: 0 or 408 or 429 or >= 500 } => true,
        AggregateException aggregate => aggregate.InnerExceptions.Any(IsTransient),
        _ => exception.InnerException is { } inner && IsTransient(inner),
    };
}
