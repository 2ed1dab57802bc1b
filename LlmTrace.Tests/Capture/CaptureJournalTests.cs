using LlmTrace.Domain.Capture;
using LlmTrace.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace LlmTrace.Tests.Capture;

public sealed class CaptureJournalTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "llmtrace-journal", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task Unacknowledged_AreRecoveredOnce_AndAFullyAcknowledgedJournalIsGone()
    {
        var traces = Enumerable.Range(0, 5).Select(_ => TestTraces.New("user: hello")).ToList();
        await using (var journal = Open())
        {
            await Task.WhenAll(traces.Select(t => journal.AppendAsync(t, CancellationToken.None)));
            journal.Acknowledge([traces[0].TraceId, traces[1].TraceId]);
        }

        await using (var restarted = Open())
        {
            var recovered = restarted.Recover();
            // Every unacknowledged trace comes back, once. Acknowledged ones still in the open segment may come back too
            // (the stages are idempotent by trace id, so processing them again changes nothing).
            Assert.Superset(traces.Skip(2).Select(t => t.TraceId).ToHashSet(), recovered.Select(t => t.TraceId).ToHashSet());
            Assert.Equal(recovered.Count, recovered.Select(t => t.TraceId).Distinct().Count());
            Assert.Equal("user: hello", recovered[0].Prompt);
            restarted.Acknowledge(recovered.Select(t => t.TraceId));
            Assert.Equal(0, restarted.Outstanding);
        }

        await using var third = Open();
        Assert.Empty(third.Recover());
        Assert.Empty(Directory.GetFiles(_directory));
    }

    [Fact]
    public async Task CallStartedButNeverCompleted_IsRecoveredAsInterrupted_CompletedOnesAsCompleted()
    {
        var done = TestTraces.New("user: hello");
        var cut = TestTraces.New("user: hello");
        await using (var journal = Open())
        {
            await journal.AppendAsync(done with { Prompt = null, Error = TraceBuilder.InterruptedError }, CancellationToken.None, started: true);
            await journal.AppendAsync(cut with { Prompt = null, Error = TraceBuilder.InterruptedError }, CancellationToken.None, started: true);
            await journal.AppendAsync(done, CancellationToken.None);
        }

        await using var restarted = Open();
        var recovered = restarted.Recover().ToDictionary(t => t.TraceId);

        Assert.Equal(2, recovered.Count);
        Assert.Equal(("user: hello", (string?)null), (recovered[done.TraceId].Prompt, recovered[done.TraceId].Error));
        Assert.Equal(TraceBuilder.InterruptedError, recovered[cut.TraceId].Error);
        restarted.Acknowledge(recovered.Keys);
        Assert.Equal(0, restarted.Outstanding);
    }

    [Fact]
    public async Task TornLastRecord_IsIgnored_TheRecordsBeforeItAreRecovered()
    {
        var first = TestTraces.New("user: hello");
        var second = TestTraces.New("user: hello");
        await using (var journal = Open())
        {
            await journal.AppendAsync(first, CancellationToken.None);
            await journal.AppendAsync(second, CancellationToken.None);
        }

        // A crash in the middle of the second write: its record is cut short.
        var file = Directory.GetFiles(_directory).Single();
        var bytes = await File.ReadAllBytesAsync(file);
        await File.WriteAllBytesAsync(file, bytes[..^7]);

        await using var restarted = Open();
        Assert.Equal([first.TraceId], restarted.Recover().Select(t => t.TraceId));
    }

    [Fact]
    public async Task FullSegments_AreDeletedOnceAllTheirTracesAreAcknowledged()
    {
        await using var journal = Open(segmentBytes: 64 * 1024);
        var traces = new List<Trace>();
        for (var i = 0; i < 40; i++)
        {
            var trace = TestTraces.New("user: hello") with { Response = new string('x', 8 * 1024) };
            traces.Add(trace);
            await journal.AppendAsync(trace, CancellationToken.None);
        }

        Assert.True(Directory.GetFiles(_directory).Length >= 3);
        journal.Acknowledge(traces.Select(t => t.TraceId));

        Assert.Single(Directory.GetFiles(_directory)); // the segment still being written
        Assert.Equal(0, journal.Outstanding);
    }

    [Fact]
    public async Task PooledRecords_OfEverySize_AppendedConcurrently_AreRecoveredIntact()
    {
        // Records are serialized into pooled buffers by a per-thread writer and returned after the write: a buffer
        // reused too early, or a writer shared between threads, would show as a corrupt or swapped record here.
        var traces = Enumerable.Range(0, 200).Select(i => TestTraces.New($"user: prompt {i} \"quoted\" <tag> é 😀 {new string('p', i * 97 % 6000)}") with
        {
            Response = i % 50 == 0 ? new string('r', 1024 * 1024) : $"answer {i} " + new string('a', i * 31 % 9000),
        }).ToList();
        await using (var journal = Open())
        {
            await Parallel.ForEachAsync(traces, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (trace, _) =>
            {
                await journal.AppendAsync(trace with { Prompt = null, Response = null }, CancellationToken.None, started: true);
                await journal.AppendAsync(trace, CancellationToken.None);
            });
        }

        await using var restarted = Open();
        var recovered = restarted.Recover().ToDictionary(t => t.TraceId);
        Assert.Equal(traces.Count, recovered.Count);
        Assert.All(traces, trace => Assert.Equal((trace.Prompt, trace.Response), (recovered[trace.TraceId].Prompt, recovered[trace.TraceId].Response)));
    }

    private CaptureJournal Open(long segmentBytes = 16 * 1024 * 1024)
        => new(Options.Create(new JournalOptions { Directory = _directory, Durability = JournalDurability.Machine, SegmentBytes = segmentBytes }), NullLogger<CaptureJournal>.Instance);
}
