using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using LlmTrace.Domain.Alerts;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;

namespace LlmTrace.Domain.Resilience;

/// <summary>
/// Circuit breakers (Polly) around dependencies a call would otherwise keep waiting on: the ML classifier and webhook
/// delivery. After repeated failures a breaker opens and calls through it fail at once (the guard then follows its
/// fail-open/fail-closed policy, an alert delivery is skipped and logged); after <see cref="BreakerOptions.BreakSeconds"/>
/// one probe is let through (half-open), and a success closes it again. State is in <c>/health</c> and in the
/// <c>llmtrace.breaker.state</c> metric, and opening raises a <c>breaker_opened</c> alert.
/// </summary>
public sealed class Breakers
{
    private const int MaxBreakers = 1_000;
    private readonly ConcurrentDictionary<string, Breaker> _breakers = new(StringComparer.Ordinal);
    private readonly IOptionsMonitor<BreakerOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<Breakers> _logger;
    private readonly Lazy<IAlertPublisher?> _alerts;

    public Breakers(
        IOptionsMonitor<BreakerOptions> options, TimeProvider time, IMeterFactory meters, ILogger<Breakers> logger, IServiceProvider? services = null)
    {
        _options = options;
        _time = time;
        _logger = logger;
        // Resolved late: the alert publisher itself delivers through a breaker.
        _alerts = new Lazy<IAlertPublisher?>(() => (IAlertPublisher?)services?.GetService(typeof(IAlertPublisher)));
        meters.Create(Telemetry.GatewayTelemetry.Name).CreateObservableGauge(
            "llmtrace.breaker.state",
            () => _breakers.Values.Select(b => new Measurement<int>((int)b.State, new KeyValuePair<string, object?>("llmtrace.breaker", b.Name))),
            "{state}",
            "Circuit breaker state: 0 closed, 1 open, 2 half-open, 3 isolated.");
    }

    /// <summary>The breaker of one dependency, created on first use.</summary>
    public Breaker For(string name) => For(name, static _ => true);

    /// <summary>The breaker of one dependency, counting only the failures <paramref name="counts"/> says are the dependency's.</summary>
    public Breaker For(string name, Func<Exception, bool> counts)
        // Names can carry a webhook's host: bounded, and only closed breakers are forgotten.
        => BoundedMap.GetOrAdd(
            _breakers, name, n => new Breaker(n, _options.CurrentValue, _time, OnOpened, _logger, counts), MaxBreakers, b => b.State == CircuitState.Closed);

    public IReadOnlyCollection<Breaker> All => [.. _breakers.Values];

    /// <summary>The classifier behind its breaker: while open, scoring fails at once and the guard's policy decides.</summary>
    public Security.IInjectionClassifier Guard(Security.IInjectionClassifier classifier)
        => new BreakerClassifier(classifier, For("classifier " + classifier.Name));

    private sealed class BreakerClassifier(Security.IInjectionClassifier inner, Breaker breaker) : Security.IInjectionClassifier
    {
        public string Name => inner.Name;

        public double Threshold => inner.Threshold;

        public double Score(string text) => breaker.Execute(() => inner.Score(text));
    }

    private void OnOpened(Breaker breaker, Exception? cause)
    {
        _logger.BreakerOpened(breaker.Name, _options.CurrentValue.BreakSeconds, cause);
        if (breaker.Name.StartsWith(WebhookPrefix, StringComparison.Ordinal) || _alerts.Value is not { } alerts)
        {
            return; // A webhook's own breaker is not announced through webhooks.
        }

        _ = alerts.PublishAsync(
            new Alert
            {
                AlertId = Guid.CreateVersion7(_time.GetUtcNow()),
                Kind = "breaker_opened",
                Severity = Capture.FindingSeverity.High,
                Summary = $"{breaker.Name} failed repeatedly; calls to it are cut short for {_options.CurrentValue.BreakSeconds} s, then probed.",
                At = _time.GetUtcNow(),
                Details = new Dictionary<string, string> { ["breaker"] = breaker.Name },
            },
            CancellationToken.None);
    }

    public const string WebhookPrefix = "webhook ";
}

/// <summary>One dependency's breaker.</summary>
public sealed class Breaker
{
    private readonly ResiliencePipeline _pipeline;
    private readonly CircuitBreakerStateProvider _state = new();
    private long _brokenUntilTicks;

    internal Breaker(string name, BreakerOptions options, TimeProvider time, Action<Breaker, Exception?> opened, ILogger logger, Func<Exception, bool> counts)
    {
        Name = name;
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = options.FailureRatio,
                MinimumThroughput = options.MinimumThroughput,
                SamplingDuration = TimeSpan.FromSeconds(options.SamplingSeconds),
                BreakDuration = TimeSpan.FromSeconds(options.BreakSeconds),
                ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => ex is not OperationCanceledException && counts(ex)),
                StateProvider = _state,
                OnOpened = args =>
                {
                    Interlocked.Exchange(ref _brokenUntilTicks, (time.GetUtcNow() + args.BreakDuration).UtcTicks);
                    opened(this, args.Outcome.Exception);
                    return ValueTask.CompletedTask;
                },
                OnClosed = _ =>
                {
                    logger.BreakerClosed(Name);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    public string Name { get; }

    public CircuitState State => _state.CircuitState;

    /// <summary>
    /// Whether a call through the breaker would be cut short now: open and within its break, isolated, or half-open with
    /// its probe in flight. An open breaker whose break is over is not broken: the next call is its probe.
    /// </summary>
    public bool IsBroken(DateTimeOffset now) => State switch
    {
        CircuitState.Open => now.UtcTicks < Interlocked.Read(ref _brokenUntilTicks),
        CircuitState.HalfOpen or CircuitState.Isolated => true,
        _ => false,
    };

    /// <summary>Runs <paramref name="work"/> through the breaker; throws <see cref="BrokenCircuitException"/> at once while open.</summary>
    public T Execute<T>(Func<T> work) => _pipeline.Execute(work);

    public ValueTask<T> ExecuteAsync<T>(Func<CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken)
        => _pipeline.ExecuteAsync(work, cancellationToken);

    public ValueTask ExecuteAsync(Func<CancellationToken, ValueTask> work, CancellationToken cancellationToken)
        => _pipeline.ExecuteAsync(work, cancellationToken);
}

/// <summary>Breaker settings, the same for every dependency. Bound from <c>LlmTrace:Breakers</c>.</summary>
public sealed class BreakerOptions
{
    public const string SectionName = "LlmTrace:Breakers";

    /// <summary>Share of failed calls in the sampling window that opens a breaker.</summary>
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>Calls the window must hold before the ratio counts.</summary>
    public int MinimumThroughput { get; set; } = 5;

    public int SamplingSeconds { get; set; } = 30;

    /// <summary>How long an open breaker cuts calls short before letting one probe through.</summary>
    public int BreakSeconds { get; set; } = 15;
}

/// <summary>Degraded while any breaker is open or half-open, with each breaker's state.</summary>
internal sealed class BreakersHealthCheck(Breakers breakers) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = breakers.All.ToDictionary(b => b.Name, b => (object)b.State.ToString());
        var open = breakers.All.Where(b => b.State != CircuitState.Closed).Select(b => b.Name).ToList();
        return Task.FromResult(open.Count == 0
            ? HealthCheckResult.Healthy("all closed", data)
            : HealthCheckResult.Degraded("open: " + string.Join(", ", open), data: data));
    }
}

internal static partial class BreakerLog
{
    [LoggerMessage(1301, LogLevel.Error, "Circuit breaker {Breaker} opened: calls are cut short for {Seconds} s, then probed")]
    public static partial void BreakerOpened(this ILogger logger, string breaker, int seconds, Exception? exception);

    [LoggerMessage(1302, LogLevel.Information, "Circuit breaker {Breaker} closed again")]
    public static partial void BreakerClosed(this ILogger logger, string breaker);
}
