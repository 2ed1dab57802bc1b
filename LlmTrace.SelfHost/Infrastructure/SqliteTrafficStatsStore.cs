using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Stats;
using Microsoft.Data.Sqlite;

namespace LlmTrace.SelfHost.Infrastructure;

/// <summary>
/// The dashboard's counters in SQLite. A batch is one transaction: each trace's applied marker and the rows it folds
/// into commit together, so a redelivered trace counts once and a crash mid-batch counts nothing.
/// </summary>
public sealed class SqliteTrafficStatsStore(SqliteDatabase database) : ITrafficStatsStore
{
    public Task ApplyAsync(IReadOnlyList<Trace> traces, CancellationToken cancellationToken)
        => database.WriteAsync(async (connection, transaction) =>
        {
            var rows = new Dictionary<StatsKey, TrafficCounters>();
            // One prepared marker statement per batch: only the parameters change from trace to trace.
            await using var mark = SqliteDatabase.Command(connection, transaction, "INSERT OR IGNORE INTO traffic_applied (trace_id, at) VALUES ($id, $at)");
            var markId = mark.Parameters.Add("$id", SqliteType.Text);
            var markAt = mark.Parameters.Add("$at", SqliteType.Integer);
            await using var load = SqliteDatabase.Command(connection, transaction, "SELECT counters FROM traffic WHERE scope = $scope AND resolution = $resolution AND start_at = $start");
            foreach (var trace in traces)
            {
                (markId.Value, markAt.Value) = (trace.TraceId.ToString("N"), trace.StartedAt.ToUnixTimeSeconds());
                if (await mark.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
                {
                    continue; // counted before
                }

                foreach (var key in TrafficStats.KeysOf(trace))
                {
                    if (!rows.TryGetValue(key, out var counters))
                    {
                        rows[key] = counters = await LoadAsync(load, key, cancellationToken).ConfigureAwait(false);
                    }

                    TrafficStats.Fold(counters, key, trace);
                }
            }

            await using var save = SqliteDatabase.Command(connection, transaction, """
                INSERT INTO traffic (scope, resolution, start_at, counters) VALUES ($scope, $resolution, $start, $counters)
                ON CONFLICT (scope, resolution, start_at) DO UPDATE SET counters = excluded.counters
                """);
            foreach (var (key, counters) in rows)
            {
                SetKey(save, key);
                save.Parameters.AddWithValue("$counters", TrafficStats.Serialize(counters));
                await save.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return true;
        }, cancellationToken);

    public async Task<IReadOnlyList<TrafficBucket>> ReadAsync(string scope, StatsResolution resolution, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT start_at, counters FROM traffic
            WHERE scope = $scope AND resolution = $resolution AND start_at >= $from AND start_at < $to
            ORDER BY start_at
            """;
        command.Parameters.AddWithValue("$scope", scope);
        command.Parameters.AddWithValue("$resolution", (int)resolution);
        command.Parameters.AddWithValue("$from", from.ToUnixTimeSeconds());
        command.Parameters.AddWithValue("$to", to.ToUnixTimeSeconds() + (to.Ticks % TimeSpan.TicksPerSecond == 0 ? 0 : 1));
        var buckets = new List<TrafficBucket>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            buckets.Add(new TrafficBucket(DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(0)), TrafficStats.Deserialize((byte[])reader.GetValue(1))));
        }

        return buckets;
    }

    public Task<int> PruneAsync(DateTimeOffset now, CancellationToken cancellationToken)
        => database.WriteAsync(async (connection, transaction) =>
        {
            await using var prune = SqliteDatabase.Command(connection, transaction, """
                DELETE FROM traffic WHERE resolution = 0 AND start_at < $minutes;
                DELETE FROM traffic_applied WHERE at < $markers;
                """);
            prune.Parameters.AddWithValue("$minutes", (now - TrafficStats.MinuteRowsKept).ToUnixTimeSeconds());
            prune.Parameters.AddWithValue("$markers", (now - TrafficStats.MarkersKept).ToUnixTimeSeconds());
            return await prune.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    /// <param name="load">The batch's prepared select of one row by its key.</param>
    private static async Task<TrafficCounters> LoadAsync(SqliteCommand load, StatsKey key, CancellationToken cancellationToken)
    {
        SetKey(load, key);
        return await load.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is byte[] json ? TrafficStats.Deserialize(json) : new TrafficCounters();
    }

    /// <summary>A reused statement's parameters, replaced by one row's key.</summary>
    private static void SetKey(SqliteCommand command, StatsKey key)
    {
        command.Parameters.Clear();
        command.Parameters.AddWithValue("$scope", key.Scope);
        command.Parameters.AddWithValue("$resolution", (int)key.Resolution);
        command.Parameters.AddWithValue("$start", key.Start.ToUnixTimeSeconds());
    }
}
