namespace LlmTrace.Domain.Stats;

/// <summary>
/// Fixed log-scale bins for durations, shared by every bucket so histograms merge by adding counts: bin 0 holds
/// everything up to 0.5 ms, bin i holds (0.5·1.2^(i-1), 0.5·1.2^i] ms, and the last bin everything longer (past about
/// 20 minutes). A percentile read from the bins is within 10 % of the true value.
/// </summary>
internal static class LatencyHistogram
{
    public const int BinCount = 96;
    private const double FirstBoundMs = 0.5;
    private const double Growth = 1.2;
    private static readonly double LogGrowth = Math.Log(Growth);

    /// <summary>The bin of a duration in milliseconds.</summary>
    public static int Bin(double milliseconds)
    {
        if (!(milliseconds > FirstBoundMs))
        {
            return 0; // also NaN and negatives
        }

        var bin = (int)Math.Ceiling(Math.Log(milliseconds / FirstBoundMs) / LogGrowth);
        return Math.Clamp(bin, 1, BinCount - 1);
    }

    /// <summary>The upper bound of a bin, in milliseconds.</summary>
    public static double UpperBound(int bin) => FirstBoundMs * Math.Pow(Growth, bin);

    /// <summary>
    /// The <paramref name="quantile"/> (0–1) of the counted durations: the geometric middle of the bin it falls in;
    /// null when nothing was counted.
    /// </summary>
    public static double? Percentile(ReadOnlySpan<long> bins, double quantile)
    {
        long total = 0;
        foreach (var count in bins)
        {
            total += count;
        }

        if (total == 0)
        {
            return null;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(quantile * total));
        long seen = 0;
        for (var i = 0; i < bins.Length; i++)
        {
            seen += bins[i];
            if (seen >= rank)
            {
                return i == 0 ? FirstBoundMs / 2 : Math.Round(Math.Sqrt(UpperBound(i - 1) * UpperBound(i)), 3);
            }
        }

        return UpperBound(bins.Length - 1);
    }
}
