using System.Collections.Concurrent;
using System.Net;
using LlmTrace.Domain.Capture;
using LlmTrace.SelfHost.Infrastructure;
using LlmTrace.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using static LlmTrace.Tests.Proxy.StreamingTests;

namespace LlmTrace.Tests.Capture;

/// <summary>No capture is lost: not under a burst with a small queue, not on shutdown with traces still queued.</summary>
public sealed class CaptureNoLossTests : IAsyncLifetime
{
    private const string ChatBody = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"burst"}]}""";
    private FakeUpstream _upstream = null!;

    public async Task InitializeAsync() => _upstream = await FakeUpstream.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    [Fact]
    public async Task Burst_2000CallsAt64Concurrency_EveryCallHasItsTrace()
    {
        // A queue far smaller than the burst, so producers must wait rather than drop.
        await using var gateway = await GatewayHost.StartAsync(_upstream, new Dictionary<string, string?> { ["LlmTrace:Capture:QueueCapacity"] = "32" });
        var traceIds = await FireAsync(gateway, calls: 2000, concurrency: 64);

        Assert.Equal(2000, traceIds.Distinct().Count());
        var deadline = DateTime.UtcNow.AddSeconds(60);
        var missing = traceIds.ToList();
        while (missing.Count > 0 && DateTime.UtcNow < deadline)
        {
            var stillMissing = new List<Guid>();
            foreach (var id in missing)
            {
                if (await gateway.Store.GetAsync(id, CancellationToken.None) is null)
                {
                    stillMissing.Add(id);
                }
            }

            missing = stillMissing;
            if (missing.Count > 0)
            {
                await Task.Delay(100);
            }
        }

        Assert.Empty(missing);
    }

    [Fact]
    public async Task Shutdown_WithTracesStillQueued_DrainsThemAllBeforeStopping()
    {
        SlowStore? slow = null;
        var gateway = await GatewayHost.StartAsync(_upstream, new Dictionary<string, string?> { ["LlmTrace:Capture:BatchSize"] = "5" }, builder =>
            builder.Services.AddSingleton<ITraceStore>(sp => slow = new SlowStore(sp.GetRequiredService<SqliteTraceStore>())));
        var traceIds = await FireAsync(gateway, calls: 200, concurrency: 16);
        var storeFile = gateway.Services.GetRequiredService<IOptions<SqliteOptions>>().Value.Path;
        Assert.True(slow!.Written < traceIds.Count, "the test needs traces still queued when shutdown starts");

        await gateway.StopAsync();

        var reopened = new SqliteTraceStore(new SqliteDatabase(Options.Create(new SqliteOptions { Path = storeFile })));
        foreach (var id in traceIds)
        {
            Assert.NotNull(await reopened.GetAsync(id, CancellationToken.None));
        }

        await gateway.DisposeAsync();
    }

    [Fact]
    public async Task StreamEndedByTheHostsShutdown_IsLabelledSo_NotAsAClientCancel()
    {
        var gateway = await GatewayHost.StartAsync(_upstream, configure: builder => builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(1)));
        var storeFile = gateway.Services.GetRequiredService<IOptions<SqliteOptions>>().Value.Path;
        using var http = gateway.CreateClient();
        var request = Post("/v1/chat/completions", """{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"go on"}]}""");
        request.Headers.TryAddWithoutValidation("x-fake-mode", "endless:shutdown");
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var traceId = TraceId(response);
        await using var body = await response.Content.ReadAsStreamAsync();
        Assert.True(await body.ReadAsync(new byte[256]) > 0); // the stream is flowing

        await gateway.StopAsync();

        var reopened = new SqliteTraceStore(new SqliteDatabase(Options.Create(new SqliteOptions { Path = storeFile })));
        var trace = await reopened.GetAsync(traceId, CancellationToken.None);
        Assert.NotNull(trace);
        Assert.Equal(("gateway_shutdown", false), (trace.Error, trace.ClientCancelled));
        await gateway.DisposeAsync();
    }

    private static async Task<List<Guid>> FireAsync(GatewayHost gateway, int calls, int concurrency)
    {
        using var http = gateway.CreateClient();
        var ids = new ConcurrentBag<Guid>();
        var next = 0;
        var workers = Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= calls)
            {
                using var response = await http.SendAsync(Post("/v1/chat/completions", ChatBody));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                await response.Content.ReadAsByteArrayAsync();
                ids.Add(TraceId(response));
            }
        });
        await Task.WhenAll(workers);
        return [.. ids];
    }

    /// <summary>A store that takes its time, so traces pile up in the queue.</summary>
    private sealed class SlowStore(ITraceStore inner) : ITraceStore
    {
        private int _written;

        public int Written => Volatile.Read(ref _written);

        public async Task UpsertAsync(IReadOnlyList<Trace> traces, CancellationToken cancellationToken)
        {
            await Task.Delay(50, cancellationToken);
            await inner.UpsertAsync(traces, cancellationToken);
            Interlocked.Add(ref _written, traces.Count);
        }

        public Task<Trace?> GetAsync(Guid traceId, CancellationToken cancellationToken) => inner.GetAsync(traceId, cancellationToken);

        public Task<TracePage> QueryAsync(TraceQuery query, CancellationToken cancellationToken) => inner.QueryAsync(query, cancellationToken);

        public Task PingAsync(CancellationToken cancellationToken) => inner.PingAsync(cancellationToken);
    }
}
