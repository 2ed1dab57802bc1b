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

    public Task<IReadOnlyList<SpendApplication>> ApplyAsync(IReadOnlyList<SpendEntry> entries, CancellationToken cancellationToken)
        => database.WriteAsync<IReadOnlyList<SpendApplication>>(async (connection, transaction) =>
        {
            await using var mark = Command(connection, transaction, "INSERT INTO spend_applied (trace_id) VALUES ($id) ON CONFLICT DO NOTHING");
            var id = mark.Parameters.Add("$id", SqliteType.Text);
            await using var add = Command(connection, transaction, """
                INSERT INTO spend (tenant_id, scope, window_key, kind, start_at, end_at, nano_usd, tokens, requests)
                VALUES ($tenant, $scope, $key, $kind, $start, $end, $nano, $tokens, 1)
                ON CONFLICT (tenant_id, scope, window_key) DO UPDATE SET
                    nano_usd = nano_usd + excluded.nano_usd, tokens = tokens + excluded.tokens, requests = requests + 1
                RETURNING nano_usd, tokens, requests
                """);
            var tenant = add.Parameters.Add("$tenant", SqliteType.Text);
            var scope = add.Parameters.Add("$scope", SqliteType.Text);
            var key = add.Parameters.Add("$key", SqliteType.Text);
            var kind = add.Parameters.Add("$kind", SqliteType.Integer);
            var start = add.Parameters.Add("$start", SqliteType.Integer);
            var end = add.Parameters.Add("$end", SqliteType.Integer);
            var nano = add.Parameters.Add("$nano", SqliteType.Integer);
            var tokens = add.Parameters.Add("$tokens", SqliteType.Integer);

            var results = new List<SpendApplication>(entries.Count);
            foreach (var entry in entries)
            {
                id.Value = entry.TraceId.ToString("N");
                if (await mark.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
                {
                    results.Add(new SpendApplication(false, []));
                    continue;
                }

                var entryNano = SpendMath.ToNanoUsd(entry.CostUsd);
                var changes = new List<(SpendTotal, SpendTotal)>();
                foreach (var agent in SpendMath.Scopes(entry))
                {
                    foreach (var window in BudgetWindow.AllContaining(entry.At))
                    {
                        tenant.Value = entry.TenantId.ToString("N");
                        scope.Value = agent ?? TenantScope;
                        key.Value = window.Key;
                        kind.Value = (int)window.Kind;
                        start.Value = window.Start.ToUnixTimeMilliseconds();
                        end.Value = window.End.ToUnixTimeMilliseconds();
                        nano.Value = entryNano;
                        tokens.Value = entry.Tokens;
                        await using var reader = await add.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                        var after = new SpendTotal(window.Kind, window.Key, window.Start, window.End, agent,
                            SpendMath.FromNanoUsd(reader.GetInt64(0)), reader.GetInt64(1), reader.GetInt64(2));
                        var before = after with { CostUsd = SpendMath.FromNanoUsd(reader.GetInt64(0) - entryNano), Tokens = after.Tokens - entry.Tokens, Requests = after.Requests - 1 };
                        changes.Add((before, after));
                    }
                }

                results.Add(new SpendApplication(true, changes));
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
            await using var command = Command(connection, transaction, "UPDATE spend SET closed = 1 WHERE tenant_id = $tenant AND scope = $scope AND window_key = $key");
            command.Parameters.AddWithValue("$tenant", tenantId.ToString("N"));
            command.Parameters.AddWithValue("$scope", total.AgentId ?? TenantScope);
            command.Parameters.AddWithValue("$key", total.WindowKey);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction transaction, string text)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = text;
        return command;
    }
}
