using System.Text;
using System.Text.Json;
using LlmTrace.Domain.Capture;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace LlmTrace.SelfHost.Infrastructure;

/// <summary>
/// Traces in one SQLite file (WAL). The trace itself is stored as JSON; the filter and order columns beside it are indexed.
/// Upserts by trace id, so a redelivered trace replaces itself.
/// </summary>
public sealed class SqliteTraceStore : ITraceStore
{
    private const string Columns = "trace_id, tenant_id, agent_id, provider, model, started_at, body";
    private readonly string _connectionString;

    public SqliteTraceStore(IOptions<SqliteOptions> options)
    {
        FullPath = System.IO.Path.GetFullPath(options.Value.Path);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = FullPath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    public string FullPath { get; }

    /// <summary>Creates the folder, file and schema. Called once at start-up, never on the request path.</summary>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(FullPath)!);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS traces (
                trace_id   TEXT PRIMARY KEY,
                tenant_id  TEXT NOT NULL,
                agent_id   TEXT NULL,
                provider   TEXT NOT NULL,
                model      TEXT NULL,
                started_at INTEGER NOT NULL,
                body       TEXT NOT NULL
            );
            CREATE INDEX IF NOT EXISTS ix_traces_order ON traces (started_at DESC, trace_id DESC);
            CREATE INDEX IF NOT EXISTS ix_traces_tenant ON traces (tenant_id, started_at DESC, trace_id DESC);
            """;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task UpsertAsync(IReadOnlyList<Trace> traces, CancellationToken cancellationToken)
    {
        if (traces.Count == 0)
        {
            return;
        }

        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"INSERT OR REPLACE INTO traces ({Columns}) VALUES ($id, $tenant, $agent, $provider, $model, $started, $body)";
        var id = command.Parameters.Add("$id", SqliteType.Text);
        var tenant = command.Parameters.Add("$tenant", SqliteType.Text);
        var agent = command.Parameters.Add("$agent", SqliteType.Text);
        var provider = command.Parameters.Add("$provider", SqliteType.Text);
        var model = command.Parameters.Add("$model", SqliteType.Text);
        var started = command.Parameters.Add("$started", SqliteType.Integer);
        var body = command.Parameters.Add("$body", SqliteType.Text);
        foreach (var trace in traces)
        {
            id.Value = trace.TraceId.ToString("N");
            tenant.Value = trace.TenantId.ToString("N");
            agent.Value = (object?)trace.AgentId ?? DBNull.Value;
            provider.Value = trace.Provider;
            model.Value = (object?)trace.Model ?? DBNull.Value;
            started.Value = trace.StartedAt.ToUnixTimeMilliseconds();
            body.Value = JsonSerializer.Serialize(trace, CaptureJsonContext.Default.Trace);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<Trace?> GetAsync(Guid traceId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT body FROM traces WHERE trace_id = $id";
        command.Parameters.AddWithValue("$id", traceId.ToString("N"));
        var body = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
        return body is null ? null : JsonSerializer.Deserialize(body, CaptureJsonContext.Default.Trace);
    }

    public async Task<TracePage> QueryAsync(TraceQuery query, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
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

            items.Add(JsonSerializer.Deserialize(reader.GetString(0), CaptureJsonContext.Default.Trace)!);
        }

        var token = more ? new TraceCursor(items[^1].StartedAt, items[^1].TraceId).Encode() : null;
        return new TracePage(items, token);
    }

    public async Task PingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sqlite_master WHERE name = 'traces'";
        var found = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        if (found != 1)
        {
            throw new InvalidOperationException("The traces table is missing.");
        }
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 30000;";
        await pragma.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }
}
