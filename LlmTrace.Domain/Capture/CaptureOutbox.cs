using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Capture;

/// <summary>
/// The last line of defence of a host whose capture queue is remote (Azure Functions): a capture that neither the queue
/// nor the park accepted — the storage account unreachable for longer than the SDK's retries — is held here, in memory,
/// and offered again in the background with a growing pause until storage answers. What it cannot save is a capture
/// held when the process dies, or one that arrives while it is full (<see cref="CaptureOptions.OutboxCapacity"/>): those
/// are counted as lost (<c>llmtrace.capture.lost</c>) and logged as critical.
/// </summary>
public sealed class CaptureOutbox : BackgroundService
{
    private static readonly Meter Meter = new("LlmTrace.Capture");
    private static readonly Counter<long> LostCount = Meter.CreateCounter<long>(
        "llmtrace.capture.lost", description: "Captures that could be neither queued, parked nor held for a retry.");

    private readonly Queue<(Trace Trace, Deliver Deliver)> _held = new();
    private readonly Lock _gate = new();
    private readonly CaptureOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<CaptureOutbox> _logger;
    private readonly SemaphoreSlim _signal = new(0);

    public CaptureOutbox(IOptions<CaptureOptions> options, TimeProvider time, ILogger<CaptureOutbox> logger)
    {
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    /// <summary>Sends or parks one capture; true when it is safely in storage.</summary>
    public delegate Task<bool> Deliver(Trace trace, CancellationToken cancellationToken);

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _held.Count;
            }
        }
    }

    /// <summary>Holds a capture storage refused, to be offered to <paramref name="deliver"/> again; false (and counted lost) when full.</summary>
    public bool Hold(Trace trace, Deliver deliver)
    {
        lock (_gate)
        {
            if (_held.Count >= _options.OutboxCapacity)
            {
                LostCount.Add(1);
                _logger.CaptureLost(trace.TraceId, "the outbox is full");
                return false;
            }

            _held.Enqueue((trace, deliver));
        }

        _logger.CaptureHeld(trace.TraceId);
        _signal.Release();
        return true;
    }

    /// <summary>Offers every held capture once, in order, stopping at the first refusal; returns how many were delivered.</summary>
    public async Task<int> FlushAsync(CancellationToken cancellationToken)
    {
        var delivered = 0;
        while (TryPeek(out var next))
        {
            bool ok;
            try
            {
                ok = await next.Deliver(next.Trace, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                ok = false;
            }

            if (!ok)
            {
                break;
            }

            lock (_gate)
            {
                _held.Dequeue();
            }

            delivered++;
        }

        return delivered;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pause = TimeSpan.FromSeconds(_options.OutboxRetrySeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (Count == 0)
                {
                    await _signal.WaitAsync(stoppingToken).ConfigureAwait(false);
                }

                await Task.Delay(pause, _time, stoppingToken).ConfigureAwait(false);
                var delivered = await FlushAsync(stoppingToken).ConfigureAwait(false);
                if (delivered > 0)
                {
                    _logger.OutboxDelivered(delivered, Count);
                }

                // Storage still refusing: ask less often, up to a minute; answering again: back to the first pause.
                pause = Count == 0
                    ? TimeSpan.FromSeconds(_options.OutboxRetrySeconds)
                    : TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromMinutes(1).Ticks));
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Out of shutdown time: what is left is reported below.
        }

        lock (_gate)
        {
            foreach (var (trace, _) in _held)
            {
                LostCount.Add(1);
                _logger.CaptureLost(trace.TraceId, "the process stopped while storage was unreachable");
            }

            _held.Clear();
        }
    }

    private bool TryPeek(out (Trace Trace, Deliver Deliver) next)
    {
        lock (_gate)
        {
            return _held.TryPeek(out next);
        }
    }
}
