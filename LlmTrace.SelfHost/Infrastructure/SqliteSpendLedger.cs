using LlmTrace.Domain.Budgets;
using Microsoft.Data.Sqlite;

namespace LlmTrace.SelfHost.Infrastructure;

/// <summary>
/// Spend windows in SQLite. Each batch is one transaction: the applied marker of a trace and its window increments
/// commit together, so a redelivered trace is never counted twice.
/// </summary>
public sealed class SqliteSpendLedger(SqliteDatabase database) : ISpendLedger
{
    private const string TenantScope = "";

    /// <remarks>
    /// A batch is folded in memory: each window row the batch touches is read once, every entry's before/after is computed
    /// in order, and each row is written once with its final totals. SelfHost is the only writer, under the database's
    /// write lock, so absolute writes are safe. The markers and the rows commit in one transaction.
    /// </remarks>
    public Task<IReadOnlyList<SpendApplication>> ApplyAsync(IReadOnlyList<SpendEntry> entries, CancellationToken cancellationToken)
        => database.WriteAsync<IReadOnlyList<SpendApplication>>(async (connection, transaction) =>
        {
            await using var mark = SqliteDatabase.Command(connection, transaction, "INSERT INTO spend_applied (trace_id) VALUES ($id) ON CONFLICT DO NOTHING");
            var id = mark.Parameters.Add("$id", SqliteType.Text);
            await using var read = SqliteDatabase.Command(connection, transaction, "SELECT nano_usd, tokens, requests, closed FROM spend WHERE tenant_id = $tenant AND scope = $scope AND window_key = $key");
            var readTenant = read.Parameters.Add("$tenant", SqliteType.Text);
            var readScope = read.Parameters.Add("$scope", SqliteType.Text);
            var readKey = read.Parameters.Add("$key", SqliteType.Text);

            var rows = new Dictionary<(string Tenant, string Scope, string Key), SpendCounter>();
            var results = new List<SpendApplication>(entries.Count);
            foreach (var entry in entries)
            {
                id.Value = entry.TraceId.ToString("N");
                if (await mark.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
                {
                    results.Add(new SpendApplication(false, []));
                    continue;
                }

                var changes = new List<(SpendTotal, SpendTotal)>();
                foreach (var agent in SpendMath.Scopes(entry))
                {
                    foreach (var window in BudgetWindow.AllContaining(entry.At))
                    {
                        var key = (entry.TenantId.ToString("N"), agent ?? TenantScope, window.Key);
                        if (!rows.TryGetValue(key, out var row))
                        {
                            (readTenant.Value, readScope.Value, readKey.Value) = (key.Item1, key.Item2, key.Item3);
                            await using var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                            row = await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                                ? new SpendCounter(window, reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3) != 0)
                                : SpendCounter.Empty(window);
                        }

                        var next = row.Add(entry);
                        rows[key] = next;
                        changes.Add((row.ToTotal(agent), next.ToTotal(agent)));
                    }
                }

                results.Add(new SpendApplication(true, changes));
            }

            await using var write = SqliteDatabase.Command(connection, transaction, """
                INSERT INTO spend (tenant_id, scope, window_key, kind, start_at, end_at, nano_usd, tokens, requests, closed)
                VALUES ($tenant, $scope, $key, $kind, $start, $end, $nano, $tokens, $requests, $closed)
                ON CONFLICT (tenant_id, scope, window_key) DO UPDATE SET
                    nano_usd = excluded.nano_usd, tokens = excluded.tokens, requests = excluded.requests
                """);
            var tenant = write.Parameters.Add("$tenant", SqliteType.Text);
            var scope = write.Parameters.Add("$scope", SqliteType.Text);
            var windowKey = write.Parameters.Add("$key", SqliteType.Text);
            var kind = write.Parameters.Add("$kind", SqliteType.Integer);
            var start = write.Parameters.Add("$start", SqliteType.Integer);
            var end = write.Parameters.Add("$end", SqliteType.Integer);
            var nanoUsd = write.Parameters.Add("$nano", SqliteType.Integer);
            var tokens = write.Parameters.Add("$tokens", SqliteType.Integer);
            var requests = write.Parameters.Add("$requests", SqliteType.Integer);
            var closed = write.Parameters.Add("$closed", SqliteType.Integer);
            foreach (var ((rowTenant, rowScope, rowKey), row) in rows)
            {
                (tenant.Value, scope.Value, windowKey.Value) = (rowTenant, rowScope, rowKey);
                kind.Value = (int)row.Window.Kind;
                start.Value = row.Window.Start.ToUnixTimeMilliseconds();
                end.Value = row.Window.End.ToUnixTimeMilliseconds();
                (nanoUsd.Value, tokens.Value, requests.Value, closed.Value) = (row.NanoUsd, row.Tokens, row.Requests, row.Closed ? 1 : 0);
                await write.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return results;
        }, cancellationToken);

    public async Task<IReadOnlyList<SpendTotal>> GetTotalsAsync(Guid tenantId, string? agentId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
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
                ? new SpendTotal(window.Kind, window.Key, window.Start, window.End, agentId, SpendMath.FromNanoUsd(reader.GetInt64(0)), reader.GetInt64(1), reader.GetInt64(2))
                : new SpendTotal(window.Kind, window.Key, window.Start, window.End, agentId, 0, 0, 0));
        }

        return totals;
    }

    public async Task<IReadOnlyList<(Guid TenantId, SpendTotal Total)>> GetEndedOpenWindowsAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
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
        => database.WriteAsync(async (connection, transaction) =>
        {
            await using var command = SqliteDatabase.Command(connection, transaction, "UPDATE spend SET closed = 1 WHERE tenant_id = $tenant AND scope = $scope AND window_key = $key");
            command.Parameters.AddWithValue("$tenant", tenantId.ToString("N"));
            command.Parameters.AddWithValue("$scope", total.AgentId ?? TenantScope);
            command.Parameters.AddWithValue("$key", total.WindowKey);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
}
