using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Stats;
using Microsoft.Data.Sqlite;

namespace LlmTrace.SelfHost.Infrastructure;

/// <summary>
/// The dashboard's counters in SQLite. A batch is one transaction: each trace's applied marker and the rows it folds
/// into commit together, so a redelivered trace counts once and a crash mid-batch counts nothing.
/// </summary>
public sealed class SqliteTrafficStatsStore(SqliteDatabase database) : SqliteFoldStore<StatsKey, TrafficCounters>(database), ITrafficStatsStore
{
    protected override string ReadMarkersSql => "SELECT trace_id, NULL FROM traffic_applied WHERE trace_id IN (SELECT value FROM json_each($ids))";

    protected override string AddMarkerSql => "INSERT INTO traffic_applied (trace_id, at) VALUES ($id, $at)";

    protected override string ReadRowSql => "SELECT counters FROM traffic WHERE scope = $scope AND resolution = $resolution AND start_at = $start";

    protected override string WriteRowSql => """
        INSERT INTO traffic (scope, resolution, start_at, counters) VALUES ($scope, $resolution, $start, $counters)
        ON CONFLICT (scope, resolution, start_at) DO UPDATE SET counters = excluded.counters
        """;

    public async Task<IReadOnlyList<TrafficBucket>> ReadAsync(
        string scope, StatsResolution resolution, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        await using var connection = await Database.OpenAsync(cancellationToken).ConfigureAwait(false);
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
        => Database.WriteAsync(async (connection, transaction) =>
        {
            await using var prune = SqliteDatabase.Command(connection, transaction, """
                DELETE FROM traffic WHERE resolution = 0 AND start_at < $minutes;
                DELETE FROM traffic_applied WHERE at < $markers;
                """);
            prune.Parameters.AddWithValue("$minutes", (now - TrafficStats.MinuteRowsKept).ToUnixTimeSeconds());
            prune.Parameters.AddWithValue("$markers", (now - TrafficStats.MarkersKept).ToUnixTimeSeconds());
            return await prune.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    protected override void BindKey(SqliteParameterCollection parameters, StatsKey key)
    {
        parameters.AddWithValue("$scope", key.Scope);
        parameters.AddWithValue("$resolution", (int)key.Resolution);
        parameters.AddWithValue("$start", key.Start.ToUnixTimeSeconds());
    }

    protected override TrafficCounters ReadRow(StatsKey key, SqliteDataReader reader) => TrafficStats.Deserialize((byte[])reader.GetValue(0));

    protected override void BindRow(SqliteParameterCollection parameters, StatsKey key, TrafficCounters row)
    {
        BindKey(parameters, key);
        parameters.AddWithValue("$counters", TrafficStats.Serialize(row));
    }
}
