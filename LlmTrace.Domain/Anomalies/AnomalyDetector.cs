using System.Globalization;
using LlmTrace.Domain.Capture;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Anomalies;

/// <summary>
/// Flags a call whose cost, tokens or latency, or a minute whose request count, is beyond <c>Sigma</c> standard
/// deviations of the tenant's rolling statistics. The value is judged against the statistics before it is folded in.
/// </summary>
public sealed class AnomalyDetector(IOptionsMonitor<AnomalyOptions> options)
{
    public const string DetectorName = "anomaly.ewma";

    public (AnomalyState Next, IReadOnlyList<Finding> Findings) Observe(AnomalyState state, Trace trace)
    {
        var settings = options.CurrentValue;
        var findings = new List<Finding>();
        var next = state;

        if (trace.Cost is { } cost)
        {
            var value = (double)cost.Total;
            Check(findings, settings, "cost_anomaly", state.Cost, value, v => $"{v.ToString("0.######", CultureInfo.InvariantCulture)} USD");
            next = next with { Cost = state.Cost.Add(value, settings.Alpha, settings.MinSamples) };
        }

        if (trace.TotalTokens is { } tokens)
        {
            Check(findings, settings, "token_anomaly", state.Tokens, tokens, v => string.Create(CultureInfo.InvariantCulture, $"{v:0} tokens"));
            next = next with { Tokens = state.Tokens.Add(tokens, settings.Alpha, settings.MinSamples) };
        }

        if (trace.StatusCode is >= 200 and < 300)
        {
            Check(findings, settings, "latency_anomaly", state.LatencyMs, trace.DurationMs, v => string.Create(CultureInfo.InvariantCulture, $"{v:0} ms"));
            next = next with { LatencyMs = state.LatencyMs.Add(trace.DurationMs, settings.Alpha, settings.MinSamples) };
        }

        var minute = trace.StartedAt.UtcDateTime.ToString("yyyyMMddHHmm", CultureInfo.InvariantCulture);
        if (state.Minute is null || string.CompareOrdinal(minute, state.Minute) > 0)
        {
            var perMinute = state.Minute is null
                ? state.RequestsPerMinute
                : state.RequestsPerMinute.Add(state.MinuteCount, settings.Alpha, settings.MinSamples);
            next = next with { RequestsPerMinute = perMinute, Minute = minute, MinuteCount = 1 };
        }
        else
        {
            var count = state.MinuteCount + 1;
            var stats = state.RequestsPerMinute;
            // Flag the minute once, on the call that crosses the line.
            if (stats.Count >= settings.MinSamples && stats.ZScore(count) > settings.Sigma && stats.ZScore(count - 1) <= settings.Sigma)
            {
                findings.Add(
                    Create(
                        "velocity_anomaly",
                        stats.ZScore(count),
                        settings,
                        string.Create(CultureInfo.InvariantCulture, $"{count} requests this minute against a mean of {stats.Mean:0.#} per minute")));
            }

            next = next with { MinuteCount = count };
        }

        return (next, findings);
    }

    private static void Check(List<Finding> findings, AnomalyOptions settings, string type, MetricStats stats, double value, Func<double, string> describe)
    {
        if (stats.Count < settings.MinSamples)
        {
            return;
        }

        var z = stats.ZScore(value);
        if (z > settings.Sigma)
        {
            findings.Add(
                Create(
                    type,
                    z,
                    settings,
                    string.Create(
                        CultureInfo.InvariantCulture, $"{describe(value)} is {z:0.0} standard deviations above the tenant's mean of {describe(stats.Mean)}")));
        }
    }

    private static Finding Create(string type, double z, AnomalyOptions settings, string message) => new()
    {
        Type = type,
        Severity = z > 2 * settings.Sigma ? FindingSeverity.High : FindingSeverity.Medium,
        Confidence = Math.Round(Math.Min(1, z / (3 * settings.Sigma)), 3),
        Location = "usage",
        Detector = DetectorName,
        Message = message,
    };
}
