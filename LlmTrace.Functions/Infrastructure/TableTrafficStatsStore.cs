using System.Globalization;
using System.Text;
using Azure;
using Azure.Data.Tables;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Stats;

namespace LlmTrace.Functions.Infrastructure;

/// <summary>
/// The dashboard's counters in Azure Table Storage. A partition holds one scope's day (<c>{scope}|{yyyyMMdd}</c>): its
/// hour rows (<c>h|HH</c>), minute rows (<c>m|HHmm</c>) and the applied markers of the traces counted there
/// (<c>applied|{traceId}</c>). Traces of one partition are folded in one entity-group transaction with their markers
/// and ETag conditions on the rows (<see cref="TableFoldStore{TKey, TRow}"/>), so a redelivered trace fails the
/// transaction on its marker and the retry leaves it out, and two instances folding into the same row retry instead
/// of losing a count.
/// </summary>
public sealed class TableTrafficStatsStore(AzureStorageClients clients) : TableFoldStore<StatsKey, TrafficCounters>, ITrafficStatsStore
{
    private const int ReadConcurrency = 8;

    private DateTimeOffset _nextPrune;

    // Markers plus at most two rows per trace stay within a transaction's 100 actions.
    public override int MaxItemsPerCommit => 30;

    protected override TableClient Table => clients.Traffic;

    public override string PartitionOf(StatsKey key) => Partition(key.Scope, key.Start);

    public async Task<IReadOnlyList<TrafficBucket>> ReadAsync(
        string scope, StatsResolution resolution, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var days = new List<DateTimeOffset>();
        for (var day = TrafficStats.Floor(from, TimeSpan.FromDays(1)); day < to; day = day.AddDays(1))
        {
            days.Add(day);
        }

        var buckets = new List<TrafficBucket>[days.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, days.Count),
            new ParallelOptions { MaxDegreeOfParallelism = ReadConcurrency, CancellationToken = cancellationToken },
            async (i, token) =>
            {
                var prefix = resolution == StatsResolution.Minute ? "m|" : "h|";
                var filter = TableClient.CreateQueryFilter(
                    $"PartitionKey eq {Partition(scope, days[i])} and RowKey ge {prefix} and RowKey lt {prefix[0] + "}"}");
                var found = new List<TrafficBucket>();
                await foreach (var row in Table.QueryAsync<TableEntity>(filter, cancellationToken: token).ConfigureAwait(false))
                {
                    var start = StartOf(days[i], row.RowKey);
                    if (start >= from && start < to)
                    {
                        found.Add(new TrafficBucket(start, TrafficStats.Deserialize(row.GetString("Counters") ?? "{}")));
                    }
                }

                buckets[i] = found;
            }).ConfigureAwait(false);
        return [.. buckets.SelectMany(b => b).OrderBy(b => b.Start)];
    }

    /// <summary>
    /// Pruning reads across partitions (a table scan), so it runs at most once an hour per instance; minute rows go by
    /// their day (the partition), markers by the start of their trace.
    /// </summary>
    public async Task<int> PruneAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (now < _nextPrune)
        {
            return 0;
        }

        _nextPrune = now.AddHours(1);
        var minuteDays = TrafficStats.Floor(now - TrafficStats.MinuteRowsKept, TimeSpan.FromDays(1));
        var markersBefore = now - TrafficStats.MarkersKept;
        var doomed = new List<TableEntity>();
        var minutes = TableClient.CreateQueryFilter($"RowKey ge {"m|"} and RowKey lt {"m}"}");
        await foreach (var row in Table.QueryAsync<TableEntity>(
            minutes, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (DateTimeOffset.TryParseExact(
                row.PartitionKey[(row.PartitionKey.LastIndexOf('|') + 1)..],
                "yyyyMMdd",
                CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal,
                out var day)
                && day < minuteDays)
            {
                doomed.Add(row);
            }
        }

        var markers = TableClient.CreateQueryFilter($"RowKey ge {"applied|"} and RowKey lt {"applied}"} and At lt {markersBefore}");
        await foreach (var row in Table.QueryAsync<TableEntity>(
            markers, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            doomed.Add(row);
        }

        foreach (var batch in doomed.GroupBy(r => r.PartitionKey).SelectMany(p => p.Chunk(100)))
        {
            await Table.SubmitTransactionAsync(
                batch.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, r, ETag.All)), cancellationToken).ConfigureAwait(false);
        }

        return doomed.Count;
    }

    protected override string RowKeyOf(StatsKey key) => key.Resolution == StatsResolution.Minute
        ? "m|" + key.Start.UtcDateTime.ToString("HHmm", CultureInfo.InvariantCulture)
        : "h|" + key.Start.UtcDateTime.ToString("HH", CultureInfo.InvariantCulture);

    protected override TableEntity ToEntity(string partition, string rowKey, StatsKey key, TrafficCounters row)
        => new(partition, rowKey) { ["Counters"] = Encoding.UTF8.GetString(TrafficStats.Serialize(row)) };

    protected override TrafficCounters FromEntity(StatsKey key, TableEntity entity) => TrafficStats.Deserialize(entity.GetString("Counters") ?? "{}");

    private static string Partition(string scope, DateTimeOffset start) => scope + "|" + start.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    private static DateTimeOffset StartOf(DateTimeOffset day, string rowKey)
    {
        var hour = int.Parse(rowKey.AsSpan(2, 2), CultureInfo.InvariantCulture);
        var minute = rowKey.Length >= 6 ? int.Parse(rowKey.AsSpan(4, 2), CultureInfo.InvariantCulture) : 0;
        return day.AddHours(hour).AddMinutes(minute);
    }
}
