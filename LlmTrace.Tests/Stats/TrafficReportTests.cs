using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Stats;
using LlmTrace.Tests.Infrastructure;

namespace LlmTrace.Tests.Stats;

/// <summary>Building a report from stored buckets, the histogram bins, and what counts as blocked.</summary>
public sealed class TrafficReportTests
{
    private static readonly DateTimeOffset Day = new(2027, 5, 10, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Build_FillsEmptyBuckets_AndMergesHoursIntoDays()
    {
        var rows = new[] { Bucket(Day.AddHours(1), 3), Bucket(Day.AddHours(30), 4), Bucket(Day.AddHours(47), 5) };

        var report = TrafficReport.Build(Day.AddHours(5), Day.AddDays(3), "day", null, rows, rows, withTenants: true);

        Assert.Equal(Day, report.From); // a report starts at the bucket that holds "from"
        Assert.Equal([Day, Day.AddDays(1), Day.AddDays(2)], report.Points.Select(p => p.Start!.Value));
        Assert.Equal([3L, 9L, 0L], report.Points.Select(p => p.Requests));
        Assert.Equal(12, report.Totals.Requests);
    }

    [Fact]
    public void Counters_CountRefusalsAndStopsAsBlocked_NotOtherErrors()
    {
        var counters = new TrafficCounters();
        foreach (var error in new[] { "security_violation", "stream_stopped: pii", "security_analysis_incomplete", "upstream_idle_timeout", null })
        {
            counters.Add(TestTraces.New() with { Error = error, StatusCode = 403 }, detail: false, byTenant: false);
        }

        Assert.Equal(3, counters.BlockedRequests);
        Assert.Equal(5, counters.ClientErrors);
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.7)]
    [InlineData(3.3)]
    [InlineData(250)]
    [InlineData(98_765)]
    public void Histogram_ReadsBackEveryDurationWithinTenPercent(double ms)
    {
        var bins = new long[LatencyHistogram.BinCount];
        bins[LatencyHistogram.Bin(ms)]++;

        var read = LatencyHistogram.Percentile(bins, 0.5)!.Value;

        Assert.InRange(read, ms < 0.5 ? 0 : ms * 0.9, ms < 0.5 ? 0.5 : ms * 1.1);
    }

    [Fact]
    public void Histogram_HostileDurations_LandInTheEdgeBins()
    {
        Assert.Equal(0, LatencyHistogram.Bin(double.NaN));
        Assert.Equal(0, LatencyHistogram.Bin(-5));
        Assert.Equal(LatencyHistogram.BinCount - 1, LatencyHistogram.Bin(double.PositiveInfinity));
        Assert.Equal(LatencyHistogram.BinCount - 1, LatencyHistogram.Bin(1e12));
        Assert.Null(LatencyHistogram.Percentile(new long[LatencyHistogram.BinCount], 0.5));
    }

    private static TrafficBucket Bucket(DateTimeOffset start, long requests)
    {
        var counters = new TrafficCounters();
        for (var i = 0; i < requests; i++)
        {
            counters.Add(TestTraces.New() with { StartedAt = start, DurationMs = 10 }, detail: true, byTenant: true);
        }

        return new TrafficBucket(start, counters);
    }
}
