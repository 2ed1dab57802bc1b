using System.Net;
using System.Text.Json;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Management;
using LlmTrace.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Moq;

namespace LlmTrace.Tests.Management;

/// <summary>Liveness and readiness probes: live whenever the process answers; ready only once started and with the trace store reachable.</summary>
public sealed class HealthProbeTests
{
    [Fact]
    public async Task Started_IsLiveAndReady()
    {
        await using var gateway = await GatewayHost.StartAsync(null);
        using var http = gateway.CreateClient();

        using var live = await http.GetAsync("/health/live");
        using var ready = await http.GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using var body = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        var checks = body.RootElement.GetProperty("dependencies").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(["startup", "traceStore"], checks.Order()); // readiness asks only what gates traffic
    }

    [Fact]
    public async Task TraceStoreUnreachable_StaysLive_ButIsNotReady()
    {
        await using var gateway = await GatewayHost.StartAsync(null, null, builder =>
            builder.Services.AddSingleton<ITraceStore>(sp => new UnreachableStore(sp.GetRequiredService<LlmTrace.SelfHost.Infrastructure.SqliteTraceStore>())));
        using var http = gateway.CreateClient();

        using var live = await http.GetAsync("/health/live");
        using var ready = await http.GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("IOException", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public void Readiness_WaitsForStartAndForEveryTrackedStage()
    {
        var started = new CancellationTokenSource();
        var lifetime = new Mock<IHostApplicationLifetime>();
        lifetime.SetupGet(l => l.ApplicationStarted).Returns(started.Token);
        lifetime.SetupGet(l => l.ApplicationStopping).Returns(CancellationToken.None);
        var readiness = new StartupReadiness(lifetime.Object);
        var replay = new TaskCompletionSource();
        readiness.Track("journal replay", replay.Task);
        readiness.Track("model broken", Task.FromException(new InvalidOperationException("bad model")));

        var beforeStart = readiness.NotReadyBecause();
        started.Cancel();
        var replaying = readiness.NotReadyBecause();
        replay.SetResult();
        var afterReplay = readiness.NotReadyBecause();

        Assert.Equal("starting", beforeStart);
        Assert.Equal("journal replay, model broken failed", replaying);
        Assert.Equal("model broken failed", afterReplay);
    }

    private sealed class UnreachableStore(ITraceStore inner) : ITraceStore
    {
        public Task UpsertAsync(IReadOnlyList<Trace> traces, CancellationToken cancellationToken) => inner.UpsertAsync(traces, cancellationToken);

        public Task<Trace?> GetAsync(Guid traceId, CancellationToken cancellationToken) => inner.GetAsync(traceId, cancellationToken);

        public Task<TracePage> QueryAsync(TraceQuery query, CancellationToken cancellationToken) => inner.QueryAsync(query, cancellationToken);

        public Task PingAsync(CancellationToken cancellationToken) => throw new IOException("store unreachable (injected)");
    }
}
