using System.Text;
using System.Text.Json;
using LlmTrace.Domain.Capture;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace LlmTrace.SelfHost.Infrastructure;

/// <summary>
/// Traces in one SQLite file (WAL). The trace itself is stored as UTF-8 JSON; the filter and order columns beside it are indexed.
/// Upserts by trace id, so a redelivered trace replaces itself.
/// </summary>
public sealed class SqliteTraceStore : ITraceStore, IAsyncDisposable
{
    private const string Columns = "trace_id, tenant_id, agent_id, provider, model, started_at, body";
    private readonly string _connectionString;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private Writer? _writer;

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
                body       BLOB NOT NULL
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

        // One long-lived writer connection with a prepared statement: SQLite has one writer anyway, and opening a
        // connection and preparing the insert per batch cost more than the inserts of a small batch.
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var writer = _writer ??= await CreateWriterAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = (SqliteTransaction)await writer.Connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            writer.Insert.Transaction = transaction;
            foreach (var trace in traces)
            {
                writer.Bind(trace);
                await writer.Insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // A broken connection is rebuilt on the next batch; the consumer retries this one.
            if (_writer is not null)
            {
                await _writer.DisposeAsync().ConfigureAwait(false);
                _writer = null;
            }

            throw;
        }
        finally
        {
            _writeGate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _writeGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_writer is not null)
            {
                await _writer.DisposeAsync().ConfigureAwait(false);
                _writer = null;
            }
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private async Task<Writer> CreateWriterAsync(CancellationToken cancellationToken)
    {
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var command = connection.CreateCommand();
        command.CommandText = $"INSERT OR REPLACE INTO traces ({Columns}) VALUES ($id, $tenant, $agent, $provider, $model, $started, $body)";
        var writer = new Writer(connection, command);
        command.Prepare();
        return writer;
    }

    public async Task<Trace?> GetAsync(Guid traceId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT body FROM traces WHERE trace_id = $id";
        command.Parameters.AddWithValue("$id", traceId.ToString("N"));
        var body = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as byte[];
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

            items.Add(JsonSerializer.Deserialize(reader.GetFieldValue<byte[]>(0), CaptureJsonContext.Default.Trace)!);
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

    /// <summary>The writer connection and its prepared insert.</summary>
    private sealed class Writer : IAsyncDisposable
    {
        private readonly SqliteParameter _id;
        private readonly SqliteParameter _tenant;
        private readonly SqliteParameter _agent;
        private readonly SqliteParameter _provider;
        private readonly SqliteParameter _model;
        private readonly SqliteParameter _started;
        private readonly SqliteParameter _body;

        public Writer(SqliteConnection connection, SqliteCommand insert)
        {
            Connection = connection;
            Insert = insert;
            _id = insert.Parameters.Add("$id", SqliteType.Text);
            _tenant = insert.Parameters.Add("$tenant", SqliteType.Text);
            _agent = insert.Parameters.Add("$agent", SqliteType.Text);
            _provider = insert.Parameters.Add("$provider", SqliteType.Text);
            _model = insert.Parameters.Add("$model", SqliteType.Text);
            _started = insert.Parameters.Add("$started", SqliteType.Integer);
            _body = insert.Parameters.Add("$body", SqliteType.Blob);
        }

        public SqliteConnection Connection { get; }

        public SqliteCommand Insert { get; }

        public void Bind(Trace trace)
        {
            _id.Value = trace.TraceId.ToString("N");
            _tenant.Value = trace.TenantId.ToString("N");
            _agent.Value = (object?)trace.AgentId ?? DBNull.Value;
            _provider.Value = trace.Provider;
            _model.Value = (object?)trace.Model ?? DBNull.Value;
            _started.Value = trace.StartedAt.ToUnixTimeMilliseconds();
            _body.Value = JsonSerializer.SerializeToUtf8Bytes(trace, CaptureJsonContext.Default.Trace);
        }

        public async ValueTask DisposeAsync()
        {
            await Insert.DisposeAsync().ConfigureAwait(false);
            await Connection.DisposeAsync().ConfigureAwait(false);
        }
    }
}
