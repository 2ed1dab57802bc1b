using Stopwatch = System.Diagnostics.Stopwatch;
using System.Net;
using LlmTrace.Domain.Capture;
using LlmTrace.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace LlmTrace.Tests.Resilience;

/// <summary>
/// The trace store behind its breaker on SelfHost: while the store is down, calls keep their latency, the store stops
/// being hammered, nothing is lost, and once a probe finds it back every held trace is written.
/// </summary>
public sealed class TraceStoreBreakerTests
{
    /// <summary>A store that fails like a full disk while <see cref="Down"/>, and counts the writes it was asked for.</summary>
    private sealed class OutageStore(ITraceStore inner) : ITraceStore
    {
        private int _writes;

        public volatile bool Down = true;

        /// <summary>Fail like a trace the store rejects for a reason of its own, not like an outage.</summary>
        public volatile bool RejectsTrace;

        public int Writes => _writes;

        public Task UpsertAsync(IReadOnlyList<Trace> traces, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _writes);
            return RejectsTrace ? throw new InvalidOperationException("constraint failed")
                : Down ? throw new IOException("No space left on device")
                : inner.UpsertAsync(traces, cancellationToken);
        }

        public Task<Trace?> GetAsync(Guid traceId, CancellationToken cancellationToken) => inner.GetAsync(traceId, cancellationToken);

        public Task<TracePage> QueryAsync(TraceQuery query, CancellationToken cancellationToken) => inner.QueryAsync(query, cancellationToken);

        public Task PingAsync(CancellationToken cancellationToken) => inner.PingAsync(cancellationToken);
    }

    [Fact]
    public async Task StoreOutage_OpensTheBreaker_CallsKeepTheirPace_AndEveryTraceIsWrittenOnceItIsBack()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        OutageStore? store = null;
        await using var gateway = await GatewayHost.StartAsync(
            upstream,
            new Dictionary<string, string?> { ["LlmTrace:Breakers:BreakSeconds"] = "2" },
            builder => builder.Services.AddSingleton<ITraceStore>(sp => store = new OutageStore(sp.GetRequiredService<LlmTrace.SelfHost.Infrastructure.SqliteTraceStore>())));
        var client = new ApiClient(gateway.CreateClient(), "sk-test");
        var ids = new List<Guid>();
        var slowest = TimeSpan.Zero;

        for (var i = 0; i < 11; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var reply = await client.SendAsync(HttpMethod.Post, "/v1/chat/completions", """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""");
            // The first call also pays for the process's first JIT of the request path: only the others are timed.
            if (i > 0)
            {
                slowest = TimeSpan.FromTicks(Math.Max(slowest.Ticks, Stopwatch.GetElapsedTime(started).Ticks));
            }

            Assert.Equal(HttpStatusCode.OK, reply.Status);
            ids.Add(Guid.Parse(reply.Header("x-llmtrace-trace-id")!));
        }

        // A store outage must not hold calls up (writes happen after the answer): no call near a store timeout.
        Assert.True(slowest < TimeSpan.FromSeconds(1), $"slowest call {slowest.TotalMilliseconds} ms while the store was down");

        // Writes through the pipeline: after 5 outage failures the breaker opens and the store is no longer asked.
        var pipeline = gateway.Services.GetRequiredService<LlmTrace.Domain.Processing.TracePipeline>();
        var trace = TestTraces.New();
        for (var i = 0; i < 8; i++)
        {
            await Assert.ThrowsAnyAsync<Exception>(() => pipeline.StoreAsync([trace], CancellationToken.None));
        }

        var writesWhileOpen = store!.Writes;
        await Assert.ThrowsAsync<Polly.CircuitBreaker.BrokenCircuitException>(() => pipeline.StoreAsync([trace], CancellationToken.None));
        Assert.Equal(writesWhileOpen, store.Writes);
        var health = await client.SendAsync(HttpMethod.Get, "/health");
        Assert.Contains("trace store", health.Text, StringComparison.Ordinal);

        store.Down = false;
        foreach (var id in ids)
        {
            await gateway.WaitForTraceAsync(id, TimeSpan.FromSeconds(60));
        }
    }

    [Fact]
    public async Task TraceRejectedForItsOwnReason_DoesNotOpenTheBreaker()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        OutageStore? store = null;
        await using var gateway = await GatewayHost.StartAsync(
            upstream,
            null,
            builder => builder.Services.AddSingleton<ITraceStore>(sp => store = new OutageStore(sp.GetRequiredService<LlmTrace.SelfHost.Infrastructure.SqliteTraceStore>()) { Down = false, RejectsTrace = true }));
        var pipeline = gateway.Services.GetRequiredService<LlmTrace.Domain.Processing.TracePipeline>();

        for (var i = 0; i < 10; i++)
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.StoreAsync([TestTraces.New()], CancellationToken.None));
        }

        // Every write reached the store: a bad trace must go the poison way, not cut off every good one.
        Assert.Equal(10, store!.Writes);
    }
}
