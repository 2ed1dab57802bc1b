using LlmTrace.Domain.Budgets;

namespace LlmTrace.Domain.Stats;

/// <summary>What <c>GET /api/stats</c> answers: totals over the range, one point per bucket (empty buckets included), and the top breakdowns.</summary>
internal sealed record TrafficReport
{
    /// <summary>Points a report may have: a wider range needs a longer bucket.</summary>
    public const int MaxPoints = 2_000;

    /// <summary>Entries in each top list.</summary>
    public const int TopEntries = 20;

    public required DateTimeOffset From { get; init; }

    public required DateTimeOffset To { get; init; }

    /// <summary><c>minute</c>, <c>hour</c> or <c>day</c>.</summary>
    public required string Bucket { get; init; }

    /// <summary>The tenant reported on; null for every tenant.</summary>
    public Guid? TenantId { get; init; }

    public required TrafficPoint Totals { get; init; }

    public required IReadOnlyList<TrafficPoint> Points { get; init; }

    /// <summary>By cost, then requests. Breakdowns are kept per hour, so they cover the whole hours the range touches.</summary>
    public required IReadOnlyList<BreakdownRow> Models { get; init; }

    public required IReadOnlyList<BreakdownRow> Agents { get; init; }

    /// <summary>Every tenant's share; only in an administrator's all-tenants report.</summary>
    public IReadOnlyList<BreakdownRow>? Tenants { get; init; }

    public required IReadOnlyList<BreakdownRow> FindingTypes { get; init; }

    /// <summary>
    /// Builds a report from the stored rows. <paramref name="rows"/> are the minute rows for a minute report, hour rows
    /// otherwise; <paramref name="hours"/> are the hour rows over the same range, for the breakdowns.
    /// </summary>
    public static TrafficReport Build(
        DateTimeOffset from,
        DateTimeOffset to,
        string bucket,
        Guid? tenantId,
        IReadOnlyList<TrafficBucket> rows,
        IReadOnlyList<TrafficBucket> hours,
        bool withTenants)
    {
        var length = BucketLength(bucket);
        var start = TrafficStats.Floor(from, length);
        var merged = new SortedDictionary<DateTimeOffset, TrafficCounters>();
        for (var at = start; at < to; at += length)
        {
            merged[at] = new TrafficCounters();
        }

        var totals = new TrafficCounters();
        foreach (var row in rows)
        {
            if (merged.TryGetValue(TrafficStats.Floor(row.Start, length), out var counters))
            {
                counters.Merge(row.Counters);
                totals.Merge(row.Counters);
            }
        }

        var detail = new TrafficCounters();
        foreach (var hour in hours)
        {
            detail.Merge(hour.Counters);
        }

        return new TrafficReport
        {
            From = start,
            To = to,
            Bucket = bucket,
            TenantId = tenantId,
            Totals = TrafficPoint.Of(null, totals),
            Points = [.. merged.Select(m => TrafficPoint.Of(m.Key, m.Value))],
            Models = Top(detail.Models),
            Agents = Top(detail.Agents),
            Tenants = withTenants ? Top(detail.Tenants) : null,
            FindingTypes = [.. (detail.FindingTypes ?? []).OrderByDescending(f => f.Value).ThenBy(f => f.Key, StringComparer.Ordinal)
                .Take(TopEntries).Select(f => new BreakdownRow(f.Key, f.Value, 0, 0, 0, f.Value))],
        };
    }

    public static TimeSpan BucketLength(string bucket) => bucket switch
    {
        "minute" => TimeSpan.FromMinutes(1),
        "hour" => TimeSpan.FromHours(1),
        _ => TimeSpan.FromDays(1),
    };

    /// <summary>The bucket a range gets when none is asked for: minutes up to 6 hours, hours up to 14 days, then days.</summary>
    public static string DefaultBucket(TimeSpan range)
        => range <= TimeSpan.FromHours(6) ? "minute" : range <= TimeSpan.FromDays(14) ? "hour" : "day";

    private static BreakdownRow[] Top(Dictionary<string, Breakdown>? map)
        => [.. (map ?? []).OrderByDescending(m => m.Value.NanoUsd).ThenByDescending(m => m.Value.Requests).ThenBy(m => m.Key, StringComparer.Ordinal)
            .Take(TopEntries).Select(
                m => new BreakdownRow(m.Key, m.Value.Requests, m.Value.Errors, m.Value.Tokens, SpendMath.FromNanoUsd(m.Value.NanoUsd), m.Value.Findings))];
}

/// <summary>One bucket of a report (or the totals, with no start).</summary>
internal sealed record TrafficPoint
{
    public DateTimeOffset? Start { get; init; }

    public long Requests { get; init; }

    public long ClientErrors { get; init; }

    public long ServerErrors { get; init; }

    /// <summary>(4xx + 5xx) / requests; 0 when there were none.</summary>
    public double ErrorRate { get; init; }

    public long Streams { get; init; }

    public long PromptTokens { get; init; }

    public long CompletionTokens { get; init; }

    public decimal CostUsd { get; init; }

    public double? LatencyP50Ms { get; init; }

    public double? LatencyP95Ms { get; init; }

    public double? LatencyP99Ms { get; init; }

    public double? TtftP50Ms { get; init; }

    public double? TtftP95Ms { get; init; }

    /// <summary>Findings by severity: info, low, medium, high, critical.</summary>
    public required IReadOnlyList<long> Findings { get; init; }

    public long FlaggedRequests { get; init; }

    /// <summary>Calls the security policy refused or stopped.</summary>
    public long BlockedRequests { get; init; }

    public static TrafficPoint Of(DateTimeOffset? start, TrafficCounters c) => new()
    {
        Start = start,
        Requests = c.Requests,
        ClientErrors = c.ClientErrors,
        ServerErrors = c.ServerErrors,
        ErrorRate = c.Requests == 0 ? 0 : Math.Round((double)(c.ClientErrors + c.ServerErrors) / c.Requests, 4),
        Streams = c.Streams,
        PromptTokens = c.PromptTokens,
        CompletionTokens = c.CompletionTokens,
        CostUsd = SpendMath.FromNanoUsd(c.NanoUsd),
        LatencyP50Ms = LatencyHistogram.Percentile(c.Latency, 0.50),
        LatencyP95Ms = LatencyHistogram.Percentile(c.Latency, 0.95),
        LatencyP99Ms = LatencyHistogram.Percentile(c.Latency, 0.99),
        TtftP50Ms = LatencyHistogram.Percentile(c.Ttft, 0.50),
        TtftP95Ms = LatencyHistogram.Percentile(c.Ttft, 0.95),
        Findings = c.Findings,
        FlaggedRequests = c.FlaggedRequests,
        BlockedRequests = c.BlockedRequests,
    };
}

/// <summary>One model, agent, tenant or finding type, with its requests, errors, tokens, cost and findings.</summary>
internal sealed record BreakdownRow(string Name, long Requests, long Errors, long Tokens, decimal CostUsd, long Findings);
