using LlmTrace.Domain.Capture;
using LlmTrace.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace LlmTrace.Tests.Capture;

/// <summary>The outbox of a host with a remote queue: captures storage refused are retried in order, with backoff, and never silently dropped.</summary>
public sealed class CaptureOutboxTests
{
    private readonly FakeTimeProvider _time = new();
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

        var traces = Enumerable.Range(0, 3).Select(_ => TestTraces.New()).ToList();
        traces.ForEach(t => Assert.True(outbox.Hold(t, Deliver)));
        await outbox.StartAsync(CancellationToken.None);

        var first = await AdvanceUntilAsync(() => Volatile.Read(ref attempts) == 1);
        var second = await AdvanceUntilAsync(() => Volatile.Read(ref attempts) == 2);
        storageUp = true;
        var third = await AdvanceUntilAsync(() => outbox.Count == 0);

        // Pauses of 2 s, then 4 s (backed off after a refusal), then 8 s; a second of slack for the pause starting just
        // after a tick. The first refusal ends each round: the other captures are not tried.
        Assert.InRange(first, 2, 3);
        Assert.InRange(second, 4, 5);
        Assert.InRange(third, 8, 9);
        Assert.Equal(5, Volatile.Read(ref attempts)); // one refused try per round, then the three delivered in order
        Assert.Equal(traces.Select(t => t.TraceId), delivered);
        await outbox.StopAsync(CancellationToken.None);
        Assert.DoesNotContain(_logs.Lines, l => l.Contains("[Critical]", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FullOutbox_RefusesAndReportsTheCaptureLost_AndStopReportsWhatIsStillHeld()
    {
        var outbox = Outbox(capacity: 1);
        static Task<bool> Refuse(Trace trace, CancellationToken _) => Task.FromResult(false);
        var first = TestTraces.New();
        var second = TestTraces.New();

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
        outbox.Hold(TestTraces.New(), Accept);
        outbox.Hold(TestTraces.New(), Accept);

        await outbox.StopAsync(CancellationToken.None);

        Assert.Equal((2, 0), (delivered, outbox.Count));
        Assert.DoesNotContain(_logs.Lines, l => l.Contains("[Critical]", StringComparison.Ordinal));
    }

    private CaptureOutbox Outbox(int capacity)
        => new(Options.Create(new CaptureOptions { OutboxCapacity = capacity, OutboxRetrySeconds = 2 }), _time, LoggerFactory.Create(b => b.AddProvider(_logs)).CreateLogger<CaptureOutbox>());

    /// <summary>Moves fake time a second at a time until the condition holds; returns how many seconds that took.</summary>
    private async Task<int> AdvanceUntilAsync(Func<bool> condition)
    {
        for (var seconds = 1; seconds <= 30; seconds++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            var deadline = DateTime.UtcNow.AddMilliseconds(300);
            while (DateTime.UtcNow < deadline)
            {
                if (condition())
                {
                    await Task.Delay(50); // let the loop start its next pause before time moves again
                    return seconds;
                }

                await Task.Delay(5);
            }
        }

        Assert.Fail("the outbox did not act within 30 s of fake time");
        return 0;
    }
}
