using LlmTrace.Domain.Budgets;
using Microsoft.Data.Sqlite;

namespace LlmTrace.SelfHost.Infrastructure;

/// <summary>
/// Spend windows in SQLite. A batch of entries is folded by <see cref="Domain.Folding.ExactlyOnceFold"/> in one
/// transaction: the applied markers and the window rows commit together, so a redelivered trace is never counted twice.
/// </summary>
public sealed class SqliteSpendLedger(SqliteDatabase database) : SqliteFoldStore<SpendKey, SpendCounter>(database), ISpendLedger
{
    private const string TenantScope = "";

    protected override string ReadMarkersSql => "SELECT trace_id, NULL FROM spend_applied WHERE trace_id IN (SELECT value FROM json_each($ids))";

    protected override string AddMarkerSql => "INSERT INTO spend_applied (trace_id) VALUES ($id)";

    protected override string ReadRowSql => "SELECT nano_usd, tokens, requests, closed FROM spend WHERE tenant_id = $tenant AND scope = $scope AND window_key = $key";

    protected override string WriteRowSql => """
        INSERT INTO spend (tenant_id, scope, window_key, kind, start_at, end_at, nano_usd, tokens, requests, closed)
        VALUES ($tenant, $scope, $key, $kind, $start, $end, $nano, $tokens, $requests, $closed)
        ON CONFLICT (tenant_id, scope, window_key) DO UPDATE SET
            nano_usd = excluded.nano_usd, tokens = excluded.tokens, requests = excluded.requests
        """;

    public async Task<IReadOnlyList<SpendTotal>> GetTotalsAsync(Guid tenantId, string? agentId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await Database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var totals = new List<SpendTotal>(4);
        foreach (var window in BudgetWindow.AllContaining(at))
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT nano_usd, tokens, requests FROM spend WHERE tenant_id = $tenant AND scope = $scope AND window_key = $key";
            command.Parameters.AddWithValue("$tenant", tenantId.ToString("N"));
            command.Parameters.AddWithValue("$scope", agentId ?? TenantScope);
            command.Parameters.AddWithValue("$key", window.Key);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            totals.Add(await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                ? new SpendTotal(
                    window.Kind,
                    window.Key,
                    window.Start,
                    window.End,
                    agentId,
                    SpendMath.FromNanoUsd(reader.GetInt64(0)),
                    reader.GetInt64(1),
                    reader.GetInt64(2))
                : new SpendTotal(window.Kind, window.Key, window.Start, window.End, agentId, 0, 0, 0));
        }

        return totals;
    }

    public async Task<IReadOnlyList<(Guid TenantId, SpendTotal Total)>> GetEndedOpenWindowsAsync(
        DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        await using var connection = await Database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT tenant_id, scope, window_key, kind, start_at, end_at, nano_usd, tokens, requests
            FROM spend WHERE closed = 0 AND end_at <= $now ORDER BY end_at LIMIT $max
            """;
        command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$max", max);
        var ended = new List<(Guid, SpendTotal)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var scope = reader.GetString(1);
            ended.Add((Guid.ParseExact(reader.GetString(0), "N"), new SpendTotal(
                (WindowKind)reader.GetInt32(3), reader.GetString(2),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)),
                scope.Length == 0 ? null : scope, SpendMath.FromNanoUsd(reader.GetInt64(6)), reader.GetInt64(7), reader.GetInt64(8))));
        }

        return ended;
    }

    public Task CloseWindowAsync(Guid tenantId, SpendTotal total, CancellationToken cancellationToken)
        => Database.WriteAsync(async (connection, transaction) =>
        {
            await using var command = SqliteDatabase.Command(
                connection, transaction, "UPDATE spend SET closed = 1 WHERE tenant_id = $tenant AND scope = $scope AND window_key = $key");
            command.Parameters.AddWithValue("$tenant", tenantId.ToString("N"));
            command.Parameters.AddWithValue("$scope", total.AgentId ?? TenantScope);
            command.Parameters.AddWithValue("$key", total.WindowKey);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    protected override void BindKey(SqliteParameterCollection parameters, SpendKey key)
    {
        parameters.AddWithValue("$tenant", key.TenantId.ToString("N"));
        parameters.AddWithValue("$scope", key.AgentId ?? TenantScope);
        parameters.AddWithValue("$key", key.Window.Key);
    }

    protected override SpendCounter ReadRow(SpendKey key, SqliteDataReader reader)
        => new(key.Window, reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3) != 0);

    protected override void BindRow(SqliteParameterCollection parameters, SpendKey key, SpendCounter row)
    {
        BindKey(parameters, key);
        parameters.AddWithValue("$kind", (int)row.Window.Kind);
        parameters.AddWithValue("$start", row.Window.Start.ToUnixTimeMilliseconds());
        parameters.AddWithValue("$end", row.Window.End.ToUnixTimeMilliseconds());
        parameters.AddWithValue("$nano", row.NanoUsd);
        parameters.AddWithValue("$tokens", row.Tokens);
        parameters.AddWithValue("$requests", row.Requests);
        parameters.AddWithValue("$closed", row.Closed ? 1 : 0);
    }
}
