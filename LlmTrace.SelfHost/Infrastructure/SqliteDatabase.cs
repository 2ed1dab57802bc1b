using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace LlmTrace.SelfHost.Infrastructure;

/// <summary>
/// The one SQLite file behind every SelfHost store: its schema, read connections, and a single long-lived writer
/// connection (SQLite has one writer at a time anyway) that the stores share under one lock.
/// </summary>
public sealed class SqliteDatabase : IAsyncDisposable
{
    private readonly string _connectionString;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private SqliteConnection? _writer;

    public SqliteDatabase(IOptions<SqliteOptions> options)
    {
        FullPath = Path.GetFullPath(options.Value.Path);
        RetentionDays = options.Value.RetentionDays;
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

    /// <summary>Days traces are kept for tenants without a retention of their own (0: for ever).</summary>
    public int RetentionDays { get; }

    /// <summary>Creates the folder, file and schema. Called once at start-up, never on the request path.</summary>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(FullPath)!);
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
                body       BLOB NOT NULL,
                succeeded  INTEGER NULL,
                findings   INTEGER NULL
            );
            CREATE INDEX IF NOT EXISTS ix_traces_order ON traces (started_at DESC, trace_id DESC);
            CREATE INDEX IF NOT EXISTS ix_traces_tenant ON traces (tenant_id, started_at DESC, trace_id DESC);

            CREATE TABLE IF NOT EXISTS spend (
                tenant_id  TEXT NOT NULL,
                scope      TEXT NOT NULL,
                window_key TEXT NOT NULL,
                kind       INTEGER NOT NULL,
                start_at   INTEGER NOT NULL,
                end_at     INTEGER NOT NULL,
                nano_usd   INTEGER NOT NULL,
                tokens     INTEGER NOT NULL,
                requests   INTEGER NOT NULL,
                closed     INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (tenant_id, scope, window_key)
            );
            CREATE INDEX IF NOT EXISTS ix_spend_open ON spend (closed, end_at);
            CREATE TABLE IF NOT EXISTS spend_applied (trace_id TEXT PRIMARY KEY);

            CREATE TABLE IF NOT EXISTS traffic (
                scope      TEXT NOT NULL,
                resolution INTEGER NOT NULL,
                start_at   INTEGER NOT NULL,
                counters   BLOB NOT NULL,
                PRIMARY KEY (scope, resolution, start_at)
            ) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS ix_traffic_age ON traffic (resolution, start_at);
            CREATE TABLE IF NOT EXISTS traffic_applied (trace_id TEXT PRIMARY KEY, at INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS ix_traffic_applied_at ON traffic_applied (at);

            CREATE TABLE IF NOT EXISTS anomaly_state (tenant_id TEXT PRIMARY KEY, state BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS anomaly_applied (trace_id TEXT PRIMARY KEY, findings BLOB NOT NULL);

            CREATE TABLE IF NOT EXISTS records (
                tbl       TEXT NOT NULL,
                partition TEXT NOT NULL,
                key       TEXT NOT NULL,
                json      TEXT NOT NULL,
                version   INTEGER NOT NULL,
                PRIMARY KEY (tbl, partition, key)
            ) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS poison (
                reference  TEXT PRIMARY KEY,
                queue      TEXT NOT NULL,
                message_id TEXT NOT NULL,
                stored_at  INTEGER NOT NULL,
                message    TEXT NOT NULL
            );
            CREATE TABLE IF NOT EXISTS record_clock (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
            INSERT OR IGNORE INTO record_clock (id, n) VALUES (1, 0);
            """;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await MigrateAsync(connection, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Brings a file written by an older version up to this schema: the <c>succeeded</c> and <c>findings</c> filter
    /// columns, filled in from the stored traces once.
    /// </summary>
    private static async Task MigrateAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        await using var columns = connection.CreateCommand();
        columns.CommandText = "SELECT COUNT(*) FROM pragma_table_info('traces') WHERE name = 'succeeded'";
        if ((long)(await columns.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! > 0)
        {
            return;
        }

        await using var migrate = connection.CreateCommand();
        migrate.CommandText = """
            BEGIN;
            ALTER TABLE traces ADD COLUMN succeeded INTEGER NULL;
            ALTER TABLE traces ADD COLUMN findings INTEGER NULL;
            UPDATE traces SET
                succeeded = CASE WHEN json_extract(CAST(body AS TEXT), '$.statusCode') BETWEEN 200 AND 399 THEN 1 ELSE 0 END,
                findings = COALESCE(json_array_length(CAST(body AS TEXT), '$.findings'), 0);
            COMMIT;
            """;
        await migrate.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 30000;";
        await pragma.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }

    /// <summary>
    /// Runs <paramref name="work"/> in one transaction on the shared writer connection. A failure rolls back and drops
    /// the connection (it is rebuilt next time); the caller retries.
    /// </summary>
    public async Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _writer ??= await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = (SqliteTransaction)await _writer.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var result = await work(_writer, transaction).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return result;
        }
        catch
        {
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

    /// <summary>A command in the write transaction (see <see cref="WriteAsync{T}"/>); reuse it for every row of a batch.</summary>
    public static SqliteCommand Command(SqliteConnection connection, SqliteTransaction transaction, string text)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = text;
        return command;
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
}
