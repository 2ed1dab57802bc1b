using LlmTrace.Domain.Alerts;
using LlmTrace.Domain.Anomalies;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Folding;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Processing;

/// <summary>Folds each call into its tenant's rolling statistics and attaches anomaly findings; alerts on the serious ones.</summary>
public sealed class AnomalyDetectionStage(IAnomalyStateStore store, AnomalyDetector detector, FindingAlerter alerter, TimeProvider timeProvider) : ITraceStage
{
    private readonly AnomalyFold _fold = new(detector);

    public string Name => "anomaly";

    public async Task<IReadOnlyList<Trace>> ProcessAsync(IReadOnlyList<Trace> traces, CancellationToken cancellationToken)
    {
        var findings = await ExactlyOnceFold.ApplyAsync(traces, _fold, store, timeProvider, cancellationToken).ConfigureAwait(false);
        var result = new Trace[traces.Count];
        for (var i = 0; i < traces.Count; i++)
        {
            result[i] = FindingMerge.With(traces[i], findings[i], AnomalyDetector.DetectorName);
            await alerter.AlertAsync("anomaly", result[i], findings[i], cancellationToken).ConfigureAwait(false);
        }

        return result;
    }
}

/// <summary>Replaces a detector family's findings on a trace, so reprocessing never duplicates them.</summary>
internal static class FindingMerge
{
    public static Trace With(Trace trace, IReadOnlyList<Finding> findings, string detectorPrefix)
    {
        var kept = trace.Findings.Where(f => !f.Detector.StartsWith(detectorPrefix, StringComparison.Ordinal));
        return trace with { Findings = [.. kept, .. findings] };
    }
}

/// <summary>Raises one alert per trace for its findings at or above the configured severity.</summary>
public sealed class FindingAlerter(IAlertPublisher alerts, IOptionsMonitor<AlertOptions> options, TimeProvider timeProvider)
{
    public async Task AlertAsync(string kind, Trace trace, IReadOnlyList<Finding> findings, CancellationToken cancellationToken)
    {
        var minimum = options.CurrentValue.MinimumSeverity;
        var serious = findings.Where(f => f.Severity >= minimum).ToList();
        if (serious.Count == 0)
        {
            return;
        }

        var worst = serious.MaxBy(f => f.Severity)!;
        var url = options.CurrentValue.PublicBaseUrl is { } baseUrl ? new Uri(baseUrl, $"/api/traces/{trace.TraceId}").ToString() : null;
        await alerts.PublishAsync(new Alert
        {
            AlertId = Guid.CreateVersion7(timeProvider.GetUtcNow()),
            Kind = kind,
            Severity = worst.Severity,
            TenantId = trace.TenantId,
            TraceId = trace.TraceId,
            TraceUrl = url,
            Summary = $"{string.Join(", ", serious.Select(f => f.Type).Distinct())} on {trace.Provider} {AlertText.Value(trace.Model)} ({AlertText.Value(trace.Endpoint)})",
            At = timeProvider.GetUtcNow(),
            Details = new Dictionary<string, string>
            {
                ["findings"] = string.Join(",", serious.Select(f => $"{f.Type}:{f.Severity.ToString().ToLowerInvariant()}")),
                ["agentId"] = trace.AgentId ?? string.Empty,
            },
        }, cancellationToken).ConfigureAwait(false);
    }
}
