using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Providers;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Management;

/// <summary>The trace store answers a cheap round trip.</summary>
internal sealed class TraceStoreHealthCheck(ITraceStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await store.PingAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy(store.GetType().Name);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"{store.GetType().Name}: {ex.GetType().Name}");
        }
    }
}

/// <summary>The in-process capture queue has room: degraded above 80 % full (producers are about to wait).</summary>
internal sealed class CaptureQueueHealthCheck(ChannelCaptureQueue queue, CaptureJournal journal) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>
        {
            ["depth"] = queue.Count,
            ["capacity"] = queue.Capacity,
            ["journal"] = journal.Durability.ToString(),
            ["journalOutstanding"] = journal.Outstanding,
        };
        var result = queue.Count > queue.Capacity * 0.8
            ? HealthCheckResult.Degraded("capture queue nearly full", data: data)
            : HealthCheckResult.Healthy("in-process channel", data);
        return Task.FromResult(result);
    }
}

/// <summary>Which routes have an upstream. Not a network probe: a provider outage must not fail the gateway's own health.</summary>
internal sealed class UpstreamsHealthCheck(IOptionsMonitor<UpstreamOptions> options, Routing.BackendPools pools, TimeProvider time) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>();
        foreach (var route in GatewayRoute.All)
        {
            var upstream = route.GetUpstream(options.CurrentValue);
            data[route.ClientPrefix.TrimStart('/')] = upstream is null ? "not configured" : upstream.GetLeftPart(UriPartial.Authority);
        }

        // Pool backends: where each one stands, so an operator sees which is throttled or broken.
        var now = time.GetUtcNow();
        var unavailable = 0;
        var pooled = 0;
        foreach (var (route, backend) in pools.Pooled)
        {
            pooled++;
            var cooling = backend.CoolingFor(now);
            var breaker = backend.Breaker?.State ?? Polly.CircuitBreaker.CircuitState.Closed;
            unavailable += cooling is not null || breaker != Polly.CircuitBreaker.CircuitState.Closed ? 1 : 0;
            var prefix = GatewayRoute.All.First(r => r.Name == route).ClientPrefix.TrimStart('/');
            data[$"{prefix} backend {backend.Name}"] = $"{backend.Url.GetLeftPart(UriPartial.Authority)}, priority {backend.Priority}, weight {backend.Weight}, breaker {breaker.ToString().ToLowerInvariant()}"
                + (cooling is { } c ? $", cooling {Math.Ceiling(c.TotalSeconds)} s" : string.Empty);
        }

        // A pool with some backends out still serves: degraded, never unhealthy (readiness must not take the gateway out).
        return Task.FromResult(pooled > 0 && unavailable > 0
            ? HealthCheckResult.Degraded($"{unavailable} of {pooled} pool backends cooling or broken", data: data)
            : HealthCheckResult.Healthy("configured routes", data));
    }
}
