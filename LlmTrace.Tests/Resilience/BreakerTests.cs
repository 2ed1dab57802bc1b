using LlmTrace.Domain.Resilience;
using LlmTrace.Domain.Security;
using LlmTrace.Tests.Costs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Polly.CircuitBreaker;

namespace LlmTrace.Tests.Resilience;

/// <summary>The classifier's breaker: a failing model stops being waited on, health says so, and a probe after the break closes it.</summary>
public sealed class BreakerTests
{
    [Fact]
    public async Task FailingClassifier_OpensItsBreaker_CallsFailAtOnce_AndAProbeAfterTheBreakClosesIt()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
        var breakers = new Breakers(
            new OptionsMonitorStub<BreakerOptions>(new BreakerOptions { BreakSeconds = 15 }),
            time,
            new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            NullLogger<Breakers>.Instance);
        var model = new FlakyModel { Failing = true };
        var guarded = breakers.Guard(model);
        var health = new BreakersHealthCheck(breakers);

        for (var i = 0; i < 5; i++)
        {
            Assert.Throws<InvalidOperationException>(() => guarded.Score("text"));
        }

        var callsBeforeOpen = model.Calls;
        Assert.Throws<BrokenCircuitException>(() => guarded.Score("text"));
        var whileOpen = await health.CheckHealthAsync(new HealthCheckContext());
        model.Failing = false;
        time.Advance(TimeSpan.FromSeconds(16));
        var probe = guarded.Score("text");
        var afterProbe = await health.CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(5, callsBeforeOpen);
        Assert.Equal(6, model.Calls); // the call while open never reached the model; the probe did
        Assert.Equal(HealthStatus.Degraded, whileOpen.Status);
        Assert.Equal("Open", whileOpen.Data["classifier flaky"]);
        Assert.Equal(0.25, probe);
        Assert.Equal(HealthStatus.Healthy, afterProbe.Status);
    }

    private sealed class FlakyModel : IInjectionClassifier
    {
        public bool Failing { get; set; }

        public int Calls { get; private set; }

        public string Name => "flaky";

        public double Threshold => 0.5;

        public double Score(string text)
        {
            Calls++;
            return Failing ? throw new InvalidOperationException("model failed (injected)") : 0.25;
        }
    }
}
