namespace LlmTrace.Domain.Anomalies;

/// <summary>An exponentially weighted mean and variance (a plain running mean until <c>MinSamples</c>).</summary>
public sealed record MetricStats(double Mean, double Variance, long Count)
{
    public static MetricStats Empty { get; } = new(0, 0, 0);

    public double StandardDeviation => Math.Sqrt(Math.Max(0, Variance));

    public MetricStats Add(double value, double alpha, int minSamples)
    {
        // Warm up with equal weights, then forget old behaviour at rate alpha.
        var weight = Count < minSamples ? 1.0 / (Count + 1) : alpha;
        var delta = value - Mean;
        var mean = Mean + (weight * delta);
        var variance = (1 - weight) * (Variance + (weight * delta * delta));
        return new MetricStats(mean, variance, Count + 1);
    }

    /// <summary>How many standard deviations above the mean <paramref name="value"/> is; a floor on the deviation keeps
    /// a near-constant series from flagging noise.</summary>
    public double ZScore(double value)
    {
        var deviation = Math.Max(StandardDeviation, Math.Max(Math.Abs(Mean) * 0.05, 1e-9));
        return (value - Mean) / deviation;
    }
}

/// <summary>One tenant's rolling statistics.</summary>
public sealed record AnomalyState
{
    public static AnomalyState Empty { get; } = new();

    public MetricStats Cost { get; init; } = MetricStats.Empty;

    public MetricStats Tokens { get; init; } = MetricStats.Empty;

    public MetricStats LatencyMs { get; init; } = MetricStats.Empty;

    /// <summary>Requests per minute over completed minutes.</summary>
    public MetricStats RequestsPerMinute { get; init; } = MetricStats.Empty;

    /// <summary>The minute being counted (yyyyMMddHHmm, UTC) and its count so far.</summary>
    public string? Minute { get; init; }

    public int MinuteCount { get; init; }
}
