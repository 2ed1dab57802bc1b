using System.Text;
using System.Text.Json;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Maintenance;
using Microsoft.Data.Sqlite;

namespace LlmTrace.SelfHost.Infrastructure;

/// <summary>
/// Traces in SQLite. The trace itself is stored as UTF-8 JSON; the filter and order columns beside it are indexed.
/// Upserts by trace id, so a redelivered trace replaces itself.
/// </summary>
public sealed class SqliteTraceStore(SqliteDatabase database) : ITraceStore, ITraceRetention
{
    public string FullPath => database.FullPath;

    public Task UpsertAsync(IReadOnlyList<Trace> traces, CancellationToken cancellationToken)
    {
        if (traces.Count == 0)
        {
            return Task.CompletedTask;
        }

        return database.WriteAsync(async (connection, transaction) =>
        {
            await using var command = SqliteDatabase.Command(
                connection,
                transaction,
                "INSERT OR REPLACE INTO traces (trace_id, tenant_id, agent_id, provider, model, started_at, succeeded, findings, body) VALUES ($id, $tenant, $agent, $provider, $model, $started, $succeeded, $findings, $body)");
            var id = command.Parameters.Add("$id", SqliteType.Text);
            var tenant = command.Parameters.Add("$tenant", SqliteType.Text);
            var agent = command.Parameters.Add("$agent", SqliteType.Text);
            var provider = command.Parameters.Add("$provider", SqliteType.Text);
            var model = command.Parameters.Add("$model", SqliteType.Text);
            var started = command.Parameters.Add("$started", SqliteType.Integer);
            var succeeded = command.Parameters.Add("$succeeded", SqliteType.Integer);
            var findings = command.Parameters.Add("$findings", SqliteType.Integer);
            var body = command.Parameters.Add("$body", SqliteType.Blob);
            command.Prepare();
            foreach (var trace in traces)
            {
                id.Value = trace.TraceId.ToString("N");
                tenant.Value = trace.TenantId.ToString("N");
                agent.Value = (object?)trace.AgentId ?? DBNull.Value;
                provider.Value = trace.Provider;
                model.Value = (object?)trace.Model ?? DBNull.Value;
                started.Value = trace.StartedAt.ToUnixTimeMilliseconds();
                succeeded.Value = TraceFilter.IsSuccess(trace.StatusCode) ? 1 : 0;
                findings.Value = trace.Findings.Count;
                body.Value = JsonSerializer.SerializeToUtf8Bytes(trace, CaptureJsonContext.Default.Trace);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return true;
        }, cancellationToken);
    }

    public async Task<Trace?> GetAsync(Guid traceId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT body FROM traces WHERE trace_id = $id";
        command.Parameters.AddWithValue("$id", traceId.ToString("N"));
        var body = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as byte[];
        return body is null ? null : JsonSerializer.Deserialize(body, CaptureJsonContext.Default.Trace);
    }

    public async Task<TracePage> QueryAsync(TraceQuery query, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        var where = new StringBuilder("WHERE 1 = 1");
        if (query.TenantId is { } tenantId)
        {
            where.Append(" AND tenant_id = $tenant");
            command.Parameters.AddWithValue("$tenant", tenantId.ToString("N"));
        }

        if (query.AgentId is not null)
        {
            where.Append(" AND agent_id = $agent");
            command.Parameters.AddWithValue("$agent", query.AgentId);
        }

        if (query.Model is not null)
        {
            where.Append(" AND model = $model COLLATE NOCASE");
            command.Parameters.AddWithValue("$model", query.Model);
        }

        if (query.Provider is not null)
        {
            where.Append(" AND provider = $provider");
            command.Parameters.AddWithValue("$provider", query.Provider);
        }

        if (query.Succeeded is { } ok)
        {
            where.Append(ok ? " AND succeeded = 1" : " AND succeeded = 0");
        }

        if (query.HasFindings is { } hasFindings)
        {
            where.Append(hasFindings ? " AND findings > 0" : " AND findings = 0");
        }

        if (query.Since is { } since)
        {
            where.Append(" AND started_at >= $since");
            command.Parameters.AddWithValue("$since", since.ToUnixTimeMilliseconds());
        }

        if (query.Until is { } until)
        {
            where.Append(" AND started_at < $until");
            command.Parameters.AddWithValue("$until", until.ToUnixTimeMilliseconds());
        }

        if (query.After is { } after)
        {
            where.Append(" AND (started_at < $afterAt OR (started_at = $afterAt AND trace_id < $afterId))");
            command.Parameters.AddWithValue("$afterAt", after.StartedAt.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$afterId", after.TraceId.ToString("N"));
        }

        command.CommandText = $"SELECT body FROM traces {where} ORDER BY started_at DESC, trace_id DESC LIMIT $limit";
        command.Parameters.AddWithValue("$limit", query.Limit + 1);

        var items = new List<Trace>(Math.Min(query.Limit, 1024));
        var more = false;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (items.Count == query.Limit)
            {
                more = true;
                break;
            }

            items.Add(JsonSerializer.Deserialize(reader.GetFieldValue<byte[]>(0), CaptureJsonContext.Default.Trace)!);
        }

        var token = more ? new TraceCursor(items[^1].StartedAt, items[^1].TraceId).Encode() : null;
        return new TracePage(items, token);
    }

    /// <summary>Each listed tenant's own cut-off, and <see cref="SqliteOptions.RetentionDays"/> for every other tenant (none when 0).</summary>
    public Task<int> PurgeAsync(IReadOnlyDictionary<Guid, DateTimeOffset> tenantCutoffs, DateTimeOffset now, CancellationToken cancellationToken)
        => database.WriteAsync(async (connection, transaction) =>
        {
            DateTimeOffset? defaultCutoff = database.RetentionDays > 0 ? now.AddDays(-database.RetentionDays) : null;
            var deleted = 0;
            foreach (var (tenantId, cutoff) in tenantCutoffs)
            {
                await using var command = SqliteDatabase.Command(
                    connection, transaction, "DELETE FROM traces WHERE tenant_id = $tenant AND started_at < $cutoff");
                command.Parameters.AddWithValue("$tenant", tenantId.ToString("N"));
                command.Parameters.AddWithValue("$cutoff", cutoff.ToUnixTimeMilliseconds());
                deleted += await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            if (defaultCutoff is { } cutoffAll)
            {
                await using var command = connection.CreateCommand();
                command.Transaction = transaction;
                var excluded = string.Join(",", tenantCutoffs.Keys.Select((_, i) => "$t" + i));
                command.CommandText = "DELETE FROM traces WHERE started_at < $cutoff" + (tenantCutoffs.Count > 0 ? $" AND tenant_id NOT IN ({excluded})" : string.Empty);
                command.Parameters.AddWithValue("$cutoff", cutoffAll.ToUnixTimeMilliseconds());
                var index = 0;
                foreach (var tenantId in tenantCutoffs.Keys)
                {
                    command.Parameters.AddWithValue("$t" + index++, tenantId.ToString("N"));
                }

                deleted += await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return deleted;
        }, cancellationToken);

    public async Task PingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sqlite_master WHERE name = 'traces'";
        var found = Convert.ToInt64(
            await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        if (found != 1)
        {
            throw new InvalidOperationException("The traces table is missing.");
        }
    }
}
