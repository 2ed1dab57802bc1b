using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Folding;

namespace LlmTrace.Domain.Stats;

/// <summary>How a call folds into its four counter rows (see <see cref="TrafficStats.KeysOf"/>); there is no result to keep.</summary>
internal sealed class TrafficFold : IFoldRules<Trace, StatsKey, TrafficCounters, bool>
{
    public static TrafficFold Instance { get; } = new();

    public Guid IdOf(Trace item) => item.TraceId;

    public DateTimeOffset AtOf(Trace item) => item.StartedAt;

    public IReadOnlyList<StatsKey> KeysOf(Trace item) => TrafficStats.KeysOf(item);

    public TrafficCounters Empty(StatsKey key) => new();

    /// <remarks>A store may split the four rows over partitions; each partition folds the rows it holds.</remarks>
    public bool Fold(Trace item, FoldRows<StatsKey, TrafficCounters> rows)
    {
        foreach (var key in TrafficStats.KeysOf(item))
        {
            if (rows.Contains(key))
            {
                var counters = rows[key];
                TrafficStats.Fold(counters, key, item);
                rows[key] = counters;
            }
        }

        return true;
    }

    public string? Memo(bool result) => null;

    public bool Repeat(Trace item, string? memo) => false;
}
