using System.Net;
using LlmTrace.Domain.Capture;
using LlmTrace.SelfHost.Infrastructure;
using LlmTrace.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static LlmTrace.Tests.Proxy.StreamingTests;

namespace LlmTrace.Tests.Capture;

/// <summary>
/// Processing runs below the request path's priority: on one dedicated thread, reniced on Linux, one batch at a time,
/// and still to completion after disposal.
/// </summary>
public sealed class BackgroundProcessingTests
{
    private const string ThreadName = "LlmTrace capture processing";

    [Fact]
    public async Task Work_RunsOnTheDedicatedThread_WithOnlyThatThreadReniced()
    {
        using var scheduler = new BackgroundScheduler("test background");
        Assert.Equal(OperatingSystem.IsLinux() || OperatingSystem.IsWindows(), await scheduler.Lowered);

        var (name, nice) = (string.Empty, -1);
        await scheduler.Run(() =>
        {
            (name, nice) = (Thread.CurrentThread.Name!, OperatingSystem.IsLinux() ? NiceOf("/proc/thread-self/stat") : -1);
            return Task.CompletedTask;
        });

        Assert.Equal("test background", name);
        if (OperatingSystem.IsLinux())
        {
            Assert.Equal(BackgroundScheduler.Nice, nice);
            Assert.Equal(0, await Task.Run(() => NiceOf("/proc/thread-self/stat"))); // thread-pool threads are untouched
            Assert.Equal(0, NiceOf("/proc/self/stat")); // and so is the process's main thread
        }
    }

    [Fact]
    public async Task ManyBatches_RunOneAtATime_InOrder_AndStayOnTheThreadThroughSynchronousAwaits()
    {
        using var scheduler = new BackgroundScheduler("test background");
        var running = 0;
        var overlapped = false;
        var order = new List<int>();
        var threads = new HashSet<int>();
        var batches = Enumerable.Range(0, 200).Select(i => scheduler.Run(async () =>
        {
            overlapped |= Interlocked.Increment(ref running) > 1;
            threads.Add(Environment.CurrentManagedThreadId);
            await Task.CompletedTask.ConfigureAwait(false); // a store write that completes synchronously
            await new ValueTask().ConfigureAwait(false);
            threads.Add(Environment.CurrentManagedThreadId);
            order.Add(i);
            Interlocked.Decrement(ref running);
        })).ToArray();

        await Task.WhenAll(batches);

        Assert.False(overlapped);
        Assert.Equal(Enumerable.Range(0, 200), order);
        Assert.Single(threads);
    }

    [Fact]
    public async Task AFailingBatch_FaultsItsOwnTask_AndTheThreadGoesOn()
    {
        using var scheduler = new BackgroundScheduler("test background");

        var failed = scheduler.Run(() => throw new InvalidOperationException("store down"));
        var next = scheduler.Run(() => Task.CompletedTask);

        Assert.Equal("store down", (await Assert.ThrowsAsync<InvalidOperationException>(() => failed)).Message);
        await next;
    }

    [Fact]
    public async Task AfterDisposal_WorkStillRuns_OnTheThreadPool()
    {
        var scheduler = new BackgroundScheduler("test background");
        var queued = scheduler.Run(() => Task.Delay(50));
        scheduler.Dispose();
        scheduler.Dispose();

        var ran = false;
        await scheduler.Run(() =>
        {
            ran = Thread.CurrentThread.IsThreadPoolThread;
            return Task.CompletedTask;
        });

        await queued;
        Assert.True(ran);
    }

    [Theory]
    [InlineData(0, 256, 10_000, false)]
    [InlineData(255, 256, 10_000, false)]
    [InlineData(256, 256, 10_000, true)]
    [InlineData(15, 256, 32, false)]
    [InlineData(16, 256, 32, true)] // a queue smaller than a batch: half of it waiting is a backlog
    [InlineData(1, 256, 1, true)]
    public void Backlog_IsAFullBatch_OrHalfAQueueSmallerThanOne(int queued, int batchSize, int capacity, bool behind)
        => Assert.Equal(behind, CaptureConsumer.IsBehind(queued, batchSize, capacity));

    [Theory]
    [InlineData("Background", true)]
    [InlineData("Normal", false)]
    public async Task Gateway_ProcessesOnTheBackgroundThread_UnlessConfiguredNormal(string priority, bool onBackgroundThread)
    {
        await using var upstream = await FakeUpstream.StartAsync();
        ThreadRecordingStore? store = null;
        await using var gateway = await GatewayHost.StartAsync(
            upstream,
            new Dictionary<string, string?> { ["LlmTrace:Capture:ProcessingPriority"] = priority },
            builder => builder.Services.AddSingleton<ITraceStore>(sp => store = new ThreadRecordingStore(sp.GetRequiredService<SqliteTraceStore>())));
        using var http = gateway.CreateClient();

        using var response = await http.SendAsync(Post("/v1/chat/completions", """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var traceId = TraceId(response);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await gateway.Store.GetAsync(traceId, CancellationToken.None) is null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.NotNull(await gateway.Store.GetAsync(traceId, CancellationToken.None));
        Assert.Equal(onBackgroundThread, store!.Threads.All(name => name == ThreadName));
        Assert.NotEmpty(store.Threads);
    }

    [Fact]
    public async Task Gateway_TakesShortBatches_OnTheBackgroundThread_AndFullOnes_OnceBehind()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        ThreadRecordingStore? store = null;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var gateway = await GatewayHost.StartAsync(
            upstream,
            new Dictionary<string, string?> { ["LlmTrace:Capture:BatchSize"] = "64" },
            builder => builder.Services.AddSingleton<ITraceStore>(sp => store = new ThreadRecordingStore(sp.GetRequiredService<SqliteTraceStore>(), release.Task)));
        using var http = gateway.CreateClient();

        // The first write holds the consumer while 100 more calls queue: more than a full batch of 64 waits, so the
        // backlog goes at normal priority in full batches; what is left once it is worked off goes back to the
        // background thread, in batches of at most 32.
        var ids = new List<Guid>();
        for (var i = 0; i < 101; i++)
        {
            using var response = await http.SendAsync(Post("/v1/chat/completions", $$"""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"call {{i}}"}]}"""));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            ids.Add(TraceId(response));
        }

        release.SetResult();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline && await gateway.Store.GetAsync(ids[^1], CancellationToken.None) is null)
        {
            await Task.Delay(20);
        }

        foreach (var id in ids)
        {
            Assert.NotNull(await gateway.Store.GetAsync(id, CancellationToken.None));
        }

        var batches = store!.Batches;
        Assert.Equal(101, batches.Sum(b => b.Count));
        Assert.All(batches.Where(b => b.Thread == ThreadName), b => Assert.InRange(b.Count, 1, CaptureConsumer.BackgroundBatchLimit));
        Assert.Contains(batches, b => b.Thread != ThreadName && b.Count == 64);
        Assert.Contains(batches.Skip(1), b => b.Thread == ThreadName);
    }

    /// <summary>The 19th field of a <c>/proc</c> stat line: the nice value.</summary>
    private static int NiceOf(string statPath)
    {
        var stat = File.ReadAllText(statPath);
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[16], System.Globalization.CultureInfo.InvariantCulture); // field 19, counted after "pid (comm)"
    }

    private sealed class ThreadRecordingStore(ITraceStore inner, Task? firstWriteWaitsFor = null) : ITraceStore
    {
        private readonly List<(string? Thread, int Count)> _batches = [];

        public IReadOnlyList<(string? Thread, int Count)> Batches
        {
            get
            {
                lock (_batches)
                {
                    return [.. _batches];
                }
            }
        }

        public IReadOnlyList<string?> Threads => [.. Batches.Select(b => b.Thread)];

        public async Task UpsertAsync(IReadOnlyList<Trace> traces, CancellationToken cancellationToken)
        {
            bool first;
            lock (_batches)
            {
                first = _batches.Count == 0;
                _batches.Add((Thread.CurrentThread.Name, traces.Count));
            }

            if (first && firstWriteWaitsFor is not null)
            {
                await firstWriteWaitsFor.WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            await inner.UpsertAsync(traces, cancellationToken).ConfigureAwait(false);
        }

        public Task<Trace?> GetAsync(Guid traceId, CancellationToken cancellationToken) => inner.GetAsync(traceId, cancellationToken);

        public Task<TracePage> QueryAsync(TraceQuery query, CancellationToken cancellationToken) => inner.QueryAsync(query, cancellationToken);

        public Task PingAsync(CancellationToken cancellationToken) => inner.PingAsync(cancellationToken);
    }
}
