using System.Globalization;
using Azure;
using Azure.Data.Tables;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Stats;

namespace LlmTrace.Functions.Infrastructure;

/// <summary>
/// The dashboard's counters in Azure Table Storage. A partition holds one scope's day (<c>{scope}|{yyyyMMdd}</c>): its
/// hour rows (<c>h|HH</c>), minute rows (<c>m|HHmm</c>) and the applied markers of the traces counted there
/// (<c>applied|{traceId}</c>). Traces of one partition are folded in one entity-group transaction with their markers
/// and ETag conditions on the rows, so a redelivered trace fails the transaction on its marker and is dropped, and two
/// instances folding into the same row retry instead of losing a count.
/// </summary>
public sealed class TableTrafficStatsStore(AzureStorageClients clients, TimeProvider timeProvider) : ITrafficStatsStore
{
    // Markers plus at most two rows per trace stay within a transaction's 100 actions.
    private const int TracesPerTransaction = 30;
    private const int ReadConcurrency = 8;

    private DateTimeOffset _nextPrune;

    private TableClient Table => clients.Traffic;

    public async Task ApplyAsync(IReadOnlyList<Trace> traces, CancellationToken cancellationToken)
    {
        var byPartition = traces
            .DistinctBy(t => t.TraceId)
            .SelectMany(t => TrafficStats.KeysOf(t).Select(k => (Trace: t, Key: k)))
            .GroupBy(x => Partition(x.Key.Scope, x.Key.Start));
        foreach (var partition in byPartition)
        {
            foreach (var chunk in partition.GroupBy(x => x.Trace.TraceId).Chunk(TracesPerTransaction))
            {
                await ApplyChunkAsync(partition.Key, [.. chunk.Select(g => (g.First().Trace, g.Select(x => x.Key).ToArray()))], cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public async Task<IReadOnlyList<TrafficBucket>> ReadAsync(string scope, StatsResolution resolution, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
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
                var filter = TableClient.CreateQueryFilter($"PartitionKey eq {Partition(scope, days[i])} and RowKey ge {prefix} and RowKey lt {prefix[0] + "}"}");
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
        await foreach (var row in Table.QueryAsync<TableEntity>(minutes, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (DateTimeOffset.TryParseExact(row.PartitionKey[(row.PartitionKey.LastIndexOf('|') + 1)..], "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var day) && day < minuteDays)
            {
                doomed.Add(row);
            }
        }

        var markers = TableClient.CreateQueryFilter($"RowKey ge {"applied|"} and RowKey lt {"applied}"} and At lt {markersBefore}");
        await foreach (var row in Table.QueryAsync<TableEntity>(markers, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            doomed.Add(row);
        }

        foreach (var batch in doomed.GroupBy(r => r.PartitionKey).SelectMany(p => p.Chunk(100)))
        {
            await Table.SubmitTransactionAsync(batch.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, r, ETag.All)), cancellationToken).ConfigureAwait(false);
        }

        return doomed.Count;
    }

    private Task ApplyChunkAsync(string partition, List<(Trace Trace, StatsKey[] Keys)> chunk, CancellationToken cancellationToken)
        => TableTransactions.RunAsync(
            async token =>
            {
                if (chunk.Count == 0)
                {
                    return true;
                }

                try
                {
                    await FoldAsync(partition, chunk, token).ConfigureAwait(false);
                }
                catch (TableTransactionFailedException ex) when (ex.Status == 409)
                {
                    // A marker may be there already (a redelivery): drop the traces counted before at once, so the retry
                    // that follows folds only the rest (or a row another writer added first, read afresh).
                    chunk = await UncountedAsync(partition, chunk, token).ConfigureAwait(false);
                    throw;
                }

                return true;
            },
            timeProvider,
            cancellationToken);

    private async Task<List<(Trace Trace, StatsKey[] Keys)>> UncountedAsync(string partition, List<(Trace Trace, StatsKey[] Keys)> chunk, CancellationToken cancellationToken)
    {
        var remaining = new List<(Trace, StatsKey[])>(chunk.Count);
        foreach (var item in chunk)
        {
            var marker = await Table.GetEntityIfExistsAsync<TableEntity>(partition, Marker(item.Trace), select: ["RowKey"], cancellationToken).ConfigureAwait(false);
            if (!marker.HasValue)
            {
                remaining.Add(item);
            }
        }

        return remaining;
    }

    private async Task FoldAsync(string partition, List<(Trace Trace, StatsKey[] Keys)> chunk, CancellationToken cancellationToken)
    {
        var keys = chunk.SelectMany(c => c.Keys.Where(k => Partition(k.Scope, k.Start) == partition)).Distinct().ToList();
        var rowKeys = keys.ToDictionary(k => k, RowKey);
        var existing = await ReadRowsAsync(partition, [.. rowKeys.Values], cancellationToken).ConfigureAwait(false);
        var counters = keys.ToDictionary(k => k, k => existing.TryGetValue(rowKeys[k], out var row) ? TrafficStats.Deserialize(row.GetString("Counters") ?? "{}") : new TrafficCounters());
        foreach (var (trace, traceKeys) in chunk)
        {
            foreach (var key in traceKeys.Where(counters.ContainsKey))
            {
                TrafficStats.Fold(counters[key], key, trace);
            }
        }

        var actions = new List<TableTransactionAction>(keys.Count + chunk.Count);
        foreach (var (key, value) in counters)
        {
            var entity = new TableEntity(partition, rowKeys[key]) { ["Counters"] = System.Text.Encoding.UTF8.GetString(TrafficStats.Serialize(value)) };
            actions.Add(existing.TryGetValue(rowKeys[key], out var row)
                ? new TableTransactionAction(TableTransactionActionType.UpdateReplace, entity, row.ETag)
                : new TableTransactionAction(TableTransactionActionType.Add, entity));
        }

        actions.AddRange(chunk.Select(c => new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(partition, Marker(c.Trace)) { ["At"] = c.Trace.StartedAt })));
        await Table.SubmitTransactionAsync(actions, cancellationToken).ConfigureAwait(false);
    }

    // Two range conditions read every row a chunk touches, whatever its size (a filter allows only 15 comparisons).
    private async Task<Dictionary<string, TableEntity>> ReadRowsAsync(string partition, IReadOnlyCollection<string> rowKeys, CancellationToken cancellationToken)
    {
        var rows = new Dictionary<string, TableEntity>(StringComparer.Ordinal);
        foreach (var group in rowKeys.GroupBy(k => k[0]))
        {
            var low = group.Min(StringComparer.Ordinal)!;
            var high = group.Max(StringComparer.Ordinal)!;
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {low} and RowKey le {high}");
            await foreach (var row in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                rows[row.RowKey] = row;
            }
        }

        return rows;
    }

    private static string Partition(string scope, DateTimeOffset start) => scope + "|" + start.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    private static string RowKey(StatsKey key) => key.Resolution == StatsResolution.Minute
        ? "m|" + key.Start.UtcDateTime.ToString("HHmm", CultureInfo.InvariantCulture)
        : "h|" + key.Start.UtcDateTime.ToString("HH", CultureInfo.InvariantCulture);

    private static string Marker(Trace trace) => "applied|" + trace.TraceId.ToString("N");

    private static DateTimeOffset StartOf(DateTimeOffset day, string rowKey)
    {
        var hour = int.Parse(rowKey.AsSpan(2, 2), CultureInfo.InvariantCulture);
        var minute = rowKey.Length >= 6 ? int.Parse(rowKey.AsSpan(4, 2), CultureInfo.InvariantCulture) : 0;
        return day.AddHours(hour).AddMinutes(minute);
    }
}
