using LlmTrace.Domain.Capture;
using LlmTrace.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace LlmTrace.Tests.Capture;

/// <summary>The outbox of a host with a remote queue: captures storage refused are retried in order, with backoff, and never silently dropped.</summary>
public sealed class CaptureOutboxTests
{
    private readonly CountingTime _time = new();
    private readonly CapturedLogs _logs = new();

    [Fact]
    public async Task HeldCaptures_AreOfferedAgainAfterThePause_InOrder_AndBackOffWhileStorageRefuses()
    {
        var outbox = Outbox(capacity: 10);
        var delivered = new List<Guid>();
        var attempts = 0;
        var storageUp = false;
        Task<bool> Deliver(Trace trace, CancellationToken _)
        {
            Interlocked.Increment(ref attempts);
            if (storageUp)
            {
                lock (delivered)
                {
                    delivered.Add(trace.TraceId);
                }
            }

            return Task.FromResult(storageUp);
        }

        var traces = Enumerable.Range(0, 3).Select(_ => NewTrace()).ToList();
        traces.ForEach(t => Assert.True(outbox.Hold(t, Deliver)));
        await outbox.StartAsync(CancellationToken.None);

        await WaitAsync(() => _time.Timers == 1);
        _time.Advance(TimeSpan.FromSeconds(2));
        await WaitAsync(() => Volatile.Read(ref attempts) == 1); // the first refusal ends the round: the others are not tried
        await WaitAsync(() => _time.Timers == 2);
        _time.Advance(TimeSpan.FromSeconds(2));
        await Task.Delay(100);
        Assert.Equal(1, Volatile.Read(ref attempts)); // backed off to 4 s
        _time.Advance(TimeSpan.FromSeconds(2));
        await WaitAsync(() => Volatile.Read(ref attempts) == 2);

        storageUp = true;
        await WaitAsync(() => _time.Timers == 3);
        _time.Advance(TimeSpan.FromSeconds(8));
        await WaitAsync(() => outbox.Count == 0);
        Assert.Equal(traces.Select(t => t.TraceId), delivered);
        await outbox.StopAsync(CancellationToken.None);
        Assert.DoesNotContain(_logs.Lines, l => l.Contains("[Critical]", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FullOutbox_RefusesAndReportsTheCaptureLost_AndStopReportsWhatIsStillHeld()
    {
        var outbox = Outbox(capacity: 1);
        static Task<bool> Refuse(Trace trace, CancellationToken _) => Task.FromResult(false);
        var first = NewTrace();
        var second = NewTrace();

        Assert.True(outbox.Hold(first, Refuse));
        Assert.False(outbox.Hold(second, Refuse));
        await outbox.StartAsync(CancellationToken.None);
        await outbox.StopAsync(CancellationToken.None);

        var lost = _logs.Lines.Where(l => l.Contains("[Critical]", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, lost.Count);
        Assert.Contains(lost, m => m.Contains(second.TraceId.ToString(), StringComparison.Ordinal) && m.Contains("full", StringComparison.Ordinal));
        Assert.Contains(lost, m => m.Contains(first.TraceId.ToString(), StringComparison.Ordinal) && m.Contains("stopped", StringComparison.Ordinal));
        Assert.Equal(0, outbox.Count);
    }

    [Fact]
    public async Task Stop_DeliversWhatStorageTakesBeforeGivingUp()
    {
        var outbox = Outbox(capacity: 10);
        var delivered = 0;
        Task<bool> Accept(Trace trace, CancellationToken _) => Task.FromResult(++delivered > 0);
        outbox.Hold(NewTrace(), Accept);
        outbox.Hold(NewTrace(), Accept);

        await outbox.StopAsync(CancellationToken.None);

        Assert.Equal((2, 0), (delivered, outbox.Count));
        Assert.DoesNotContain(_logs.Lines, l => l.Contains("[Critical]", StringComparison.Ordinal));
    }

    private CaptureOutbox Outbox(int capacity)
        => new(Options.Create(new CaptureOptions { OutboxCapacity = capacity, OutboxRetrySeconds = 2 }), _time, LoggerFactory.Create(b => b.AddProvider(_logs)).CreateLogger<CaptureOutbox>());

    private static async Task WaitAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the outbox did not act in time");
            await Task.Delay(10);
        }
    }

    private static Trace NewTrace() => new()
    {
        TraceId = Guid.NewGuid(),
        TenantId = Guid.NewGuid(),
        Provider = "openai",
        Endpoint = "/v1/chat/completions",
        Method = "POST",
        StartedAt = DateTimeOffset.UtcNow,
    };

    /// <summary>Fake time that counts the timers started on it, so a test moves time only once the outbox is waiting.</summary>
    private sealed class CountingTime : FakeTimeProvider
    {
        private int _timers;

        public int Timers => Volatile.Read(ref _timers);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Interlocked.Increment(ref _timers);
            return base.CreateTimer(callback, state, dueTime, period);
        }
    }
}
