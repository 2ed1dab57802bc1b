using System.Collections.Concurrent;
using LlmTrace.Domain.Security;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace LlmTrace.Domain.Management;

/// <summary>
/// What must finish before the gateway takes traffic, beyond its hosted services starting: the replay of the capture
/// journal, the ML classifier's model being loaded. <c>/health/ready</c> stays 503 until each has completed, as a
/// startup or readiness probe expects.
/// </summary>
internal sealed class StartupReadiness(IHostApplicationLifetime lifetime)
{
    private readonly ConcurrentDictionary<string, Task> _stages = new(StringComparer.Ordinal);

    /// <summary>Adds work the gateway is not ready before.</summary>
    public void Track(string stage, Task work) => _stages[stage] = work;

    /// <summary>Null when ready; otherwise why not.</summary>
    public string? NotReadyBecause()
    {
        if (!lifetime.ApplicationStarted.IsCancellationRequested)
        {
            return "starting";
        }

        if (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            return "stopping";
        }

        var pending = _stages.Where(s => !s.Value.IsCompletedSuccessfully).Select(s => s.Value.IsFaulted ? s.Key + " failed" : s.Key).ToList();
        return pending.Count == 0 ? null : string.Join(", ", pending.Order(StringComparer.Ordinal));
    }
}

/// <summary>Healthy once <see cref="StartupReadiness"/> has nothing pending.</summary>
internal sealed class StartupHealthCheck(StartupReadiness readiness) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        => Task.FromResult(readiness.NotReadyBecause() is { } reason
            ? HealthCheckResult.Unhealthy("not ready: " + reason)
            : HealthCheckResult.Healthy("started"));
}

/// <summary>Loads the ML classifiers' models in the background at start-up, so readiness waits for them, not the first call.</summary>
internal sealed class ClassifierWarmup(IEnumerable<IInjectionClassifier> classifiers, StartupReadiness readiness) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var classifier in classifiers)
        {
            readiness.Track("model " + classifier.Name, Task.Run(() => classifier.Score("warm-up"), CancellationToken.None));
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
