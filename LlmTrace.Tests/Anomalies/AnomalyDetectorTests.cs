using LlmTrace.Domain.Anomalies;
using LlmTrace.Domain.Capture;
using LlmTrace.Tests.Costs;

namespace LlmTrace.Tests.Anomalies;

public sealed class AnomalyDetectorTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 26, 9, 0, 0, TimeSpan.Zero);
    private readonly AnomalyDetector _detector = new(new OptionsMonitorStub<AnomalyOptions>(new AnomalyOptions { Sigma = 4, MinSamples = 30, Alpha = 0.05 }));

    [Fact]
    public void Observe_SteadyTrafficThenA20xCostSpike_FlagsOnlyTheSpike()
    {
        var state = AnomalyState.Empty;
        var flagged = new List<Finding>();
        for (var i = 0; i < 200; i++)
        {
            var (next, findings) = _detector.Observe(state, Call(Start.AddSeconds(i * 30), cost: 0.01m + (i % 5 * 0.001m), tokens: 500 + (i % 7 * 10), latency: 800 + (i % 3 * 50)));
            flagged.AddRange(findings);
            state = next;
        }

        var (_, spike) = _detector.Observe(state, Call(Start.AddSeconds(200 * 30), cost: 0.25m, tokens: 510, latency: 820));

        Assert.Empty(flagged);
        var finding = Assert.Single(spike);
        Assert.Equal(("cost_anomaly", "usage", AnomalyDetector.DetectorName), (finding.Type, finding.Location, finding.Detector));
        Assert.Equal(FindingSeverity.High, finding.Severity);
        Assert.Contains("standard deviations", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Observe_FewerThanMinSamples_FlagsNothing()
    {
        var state = AnomalyState.Empty;
        for (var i = 0; i < 10; i++)
        {
            state = _detector.Observe(state, Call(Start.AddMinutes(i), 0.01m, 100, 100)).Next;
        }

        Assert.Empty(_detector.Observe(state, Call(Start.AddMinutes(11), 100m, 100_000, 100_000)).Findings);
    }

    [Fact]
    public void Observe_RequestBurstInOneMinute_FlagsVelocityOnce()
    {
        var state = AnomalyState.Empty;
        for (var minute = 0; minute < 60; minute++)
        {
            for (var call = 0; call < 3 + (minute % 2); call++)
            {
                state = _detector.Observe(state, Call(Start.AddMinutes(minute).AddSeconds(call), 0.01m, 500, 800)).Next;
            }
        }

        var velocity = new List<Finding>();
        for (var call = 0; call < 40; call++)
        {
            var (next, findings) = _detector.Observe(state, Call(Start.AddMinutes(60).AddSeconds(call), 0.01m, 500, 800));
            velocity.AddRange(findings.Where(f => f.Type == "velocity_anomaly"));
            state = next;
        }

        Assert.Single(velocity);
    }

    private static Trace Call(DateTimeOffset at, decimal cost, int tokens, double latency, Guid? tenant = null) => new()
    {
        TraceId = Guid.NewGuid(),
        TenantId = tenant ?? Guid.Empty,
        Provider = "openai",
        Endpoint = "/v1/chat/completions",
        Method = "POST",
        StatusCode = 200,
        StartedAt = at,
        DurationMs = latency,
        TotalTokens = tokens,
        Cost = new TraceCost { Total = cost, PricedAs = "gpt-4o", CatalogDate = "test" },
    };
}
