using System.Text.Json;
using System.Text.Json.Serialization;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Folding;

namespace LlmTrace.Domain.Stats;

/// <summary>How long the buckets of a stored row are.</summary>
public enum StatsResolution
{
    Minute = 0,
    Hour = 1,
}

/// <summary>One stored row: the counters of a scope (<see cref="TrafficStats.AllTenants"/> or a tenant) in one bucket.</summary>
public readonly record struct StatsKey(string Scope, StatsResolution Resolution, DateTimeOffset Start);

/// <summary>A bucket that was read back: when it starts, and its counters.</summary>
public sealed record TrafficBucket(DateTimeOffset Start, TrafficCounters Counters);

/// <summary>
/// Pre-aggregated traffic counters, so the dashboard's charts read a few hundred rows instead of scanning traces. Every
/// stored trace is folded exactly once (by trace id, <see cref="TrafficStatsExtensions.ApplyAsync"/>) into four rows: its
/// tenant's minute and hour buckets, and the all-tenants minute and hour buckets.
/// </summary>
public interface ITrafficStatsStore : IFoldStore<StatsKey, TrafficCounters>
{
    /// <summary>The stored buckets of a scope whose start is in [<paramref name="from"/>, <paramref name="to"/>),
    /// ascending; empty buckets are absent.</summary>
    Task<IReadOnlyList<TrafficBucket>> ReadAsync(
        string scope, StatsResolution resolution, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes minute rows older than <see cref="TrafficStats.MinuteRowsKept"/> and applied markers of traces older than
    /// <see cref="TrafficStats.MarkersKept"/> (hour rows are kept); returns how many rows went. Stores where this is a
    /// scan may do it less often than they are asked.
    /// </summary>
    Task<int> PruneAsync(DateTimeOffset now, CancellationToken cancellationToken);
}

/// <summary>The rows a trace is folded into, and how.</summary>
public static class TrafficStats
{
    /// <summary>The scope that counts every tenant.</summary>
    public const string AllTenants = "all";

    /// <summary>How long minute rows are kept: a minute report spans at most about 33 hours, so a week is ample.</summary>
    public static readonly TimeSpan MinuteRowsKept = TimeSpan.FromDays(8);

    /// <summary>
    /// How long a trace's applied marker is kept: longer than any capture can wait before it is processed (queue
    /// messages live 7 days, parked captures are replayed within minutes of storage coming back).
    /// </summary>
    public static readonly TimeSpan MarkersKept = TimeSpan.FromDays(35);

    public static string TenantScope(Guid tenantId) => tenantId.ToString("N");

    /// <summary>The scope a report reads: one tenant, or every tenant.</summary>
    public static string ScopeOf(Guid? tenantId) => tenantId is { } id ? TenantScope(id) : AllTenants;

    public static TimeSpan Length(StatsResolution resolution) => resolution == StatsResolution.Minute ? TimeSpan.FromMinutes(1) : TimeSpan.FromHours(1);

    /// <summary>The start of the bucket that holds <paramref name="at"/>, in UTC.</summary>
    public static DateTimeOffset Floor(DateTimeOffset at, TimeSpan length)
    {
        var utc = at.ToUniversalTime();
        return new DateTimeOffset(utc.Ticks - (utc.Ticks % length.Ticks), TimeSpan.Zero);
    }

    /// <summary>The four rows a trace counts in.</summary>
    public static StatsKey[] KeysOf(Trace trace)
    {
        var minute = Floor(trace.StartedAt, TimeSpan.FromMinutes(1));
        var hour = Floor(trace.StartedAt, TimeSpan.FromHours(1));
        var tenant = TenantScope(trace.TenantId);
        return
        [
            new(tenant, StatsResolution.Minute, minute),
            new(tenant, StatsResolution.Hour, hour),
            new(AllTenants, StatsResolution.Minute, minute),
            new(AllTenants, StatsResolution.Hour, hour),
        ];
    }

    /// <summary>Adds a trace to the counters of one of its rows: hour rows carry the breakdowns, all-tenants hour rows also by tenant.</summary>
    public static void Fold(TrafficCounters counters, StatsKey key, Trace trace)
        => counters.Add(trace, detail: key.Resolution == StatsResolution.Hour, byTenant: key.Resolution == StatsResolution.Hour && key.Scope == AllTenants);

    public static byte[] Serialize(TrafficCounters counters) => JsonSerializer.SerializeToUtf8Bytes(counters, StatsJsonContext.Default.TrafficCounters);

    public static TrafficCounters Deserialize(ReadOnlySpan<byte> json)
        => JsonSerializer.Deserialize(json, StatsJsonContext.Default.TrafficCounters) ?? new TrafficCounters();

    public static TrafficCounters Deserialize(string json)
        => JsonSerializer.Deserialize(json, StatsJsonContext.Default.TrafficCounters) ?? new TrafficCounters();
}

/// <summary>Counting traffic: the one exactly-once algorithm with the traffic rules, over any store.</summary>
internal static class TrafficStatsExtensions
{
    /// <summary>Folds each trace into its rows; a trace id folded before changes nothing.</summary>
    public static Task ApplyAsync(this ITrafficStatsStore store, IReadOnlyList<Trace> traces, TimeProvider timeProvider, CancellationToken cancellationToken)
        => ExactlyOnceFold.ApplyAsync(traces, TrafficFold.Instance, store, timeProvider, cancellationToken);
}

/// <summary>How stats rows and reports are written.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(TrafficCounters))]
[JsonSerializable(typeof(TrafficReport))]
internal sealed partial class StatsJsonContext : JsonSerializerContext;
