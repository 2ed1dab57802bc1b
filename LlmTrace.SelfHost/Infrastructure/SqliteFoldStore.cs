using System.Text;
using LlmTrace.Domain.Folding;
using Microsoft.Data.Sqlite;

namespace LlmTrace.SelfHost.Infrastructure;

/// <summary>
/// The SQLite side of <see cref="IFoldStore{TKey, TRow}"/>, for every counter family: a batch is one write transaction on
/// the shared writer connection, and SelfHost is the file's only writer, so a commit never meets another writer's change
/// and every statement is prepared once per batch. A family names its tables and says how one row is read and written.
/// </summary>
public abstract class SqliteFoldStore<TKey, TRow>(SqliteDatabase database) : IFoldStore<TKey, TRow>
    where TKey : notnull
{
    public int MaxItemsPerCommit => int.MaxValue;

    public bool CommitFailsOnExistingMarker => false;

    protected SqliteDatabase Database => database;

    /// <summary>Selects <c>(trace_id, memo)</c> of the markers whose id is in the JSON array <c>$ids</c> (memo may be NULL).</summary>
    protected abstract string ReadMarkersSql { get; }

    /// <summary>Inserts a marker from <c>$id</c>, <c>$at</c> (Unix seconds) and <c>$memo</c>, using those it keeps.</summary>
    protected abstract string AddMarkerSql { get; }

    /// <summary>Selects one row by the parameters <see cref="BindKey"/> sets.</summary>
    protected abstract string ReadRowSql { get; }

    /// <summary>Inserts or replaces one row from the parameters <see cref="BindRow"/> sets.</summary>
    protected abstract string WriteRowSql { get; }

    public string PartitionOf(TKey key) => string.Empty;

    public Task RunAsync(Func<IFoldSession<TKey, TRow>, Task> work, CancellationToken cancellationToken)
        => database.WriteAsync(
            async (connection, transaction) =>
            {
                await using var session = new Session(this, connection, transaction);
                await work(session).ConfigureAwait(false);
                return true;
            },
            cancellationToken);

    protected abstract void BindKey(SqliteParameterCollection parameters, TKey key);

    /// <summary>The row from the current record of <see cref="ReadRowSql"/>.</summary>
    protected abstract TRow ReadRow(TKey key, SqliteDataReader reader);

    protected abstract void BindRow(SqliteParameterCollection parameters, TKey key, TRow row);

    /// <summary>One batch's statements, each prepared on first use and reused with new parameters.</summary>
    private sealed class Session(SqliteFoldStore<TKey, TRow> store, SqliteConnection connection, SqliteTransaction transaction)
        : IFoldSession<TKey, TRow>, IAsyncDisposable
    {
        private SqliteCommand? _readMarkers;
        private SqliteCommand? _addMarker;
        private SqliteCommand? _readRow;
        private SqliteCommand? _writeRow;

        public async Task<IReadOnlyDictionary<Guid, string?>> ReadMarkersAsync(
            string partition, IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken)
        {
            var command = Prepared(ref _readMarkers, store.ReadMarkersSql);
            // A JSON array of hex ids (nothing to escape), read by json_each: one statement for the whole chunk.
            command.Parameters.AddWithValue("$ids", "[\"" + string.Join("\",\"", ids.Select(id => id.ToString("N"))) + "\"]");
            var seen = new Dictionary<Guid, string?>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                seen[Guid.ParseExact(reader.GetString(0), "N")] = reader.GetValue(1) switch
                {
                    byte[] bytes => Encoding.UTF8.GetString(bytes),
                    string text => text,
                    _ => null,
                };
            }

            return seen;
        }

        public async Task<IReadOnlyDictionary<TKey, StoredRow<TRow>>> ReadRowsAsync(
            string partition, IReadOnlyCollection<TKey> keys, CancellationToken cancellationToken)
        {
            var rows = new Dictionary<TKey, StoredRow<TRow>>(keys.Count);
            foreach (var key in keys)
            {
                var command = Prepared(ref _readRow, store.ReadRowSql);
                store.BindKey(command.Parameters, key);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    rows[key] = new StoredRow<TRow>(store.ReadRow(key, reader), null);
                }
            }

            return rows;
        }

        /// <remarks>Inside the batch's transaction: nothing written here is visible to anyone until the batch commits.</remarks>
        public async Task<bool> TryCommitAsync(
            string partition, IReadOnlyList<RowWrite<TKey, TRow>> rows, IReadOnlyList<FoldMarker> markers, CancellationToken cancellationToken)
        {
            foreach (var row in rows)
            {
                var command = Prepared(ref _writeRow, store.WriteRowSql);
                store.BindRow(command.Parameters, row.Key, row.Row);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            foreach (var marker in markers)
            {
                var command = Prepared(ref _addMarker, store.AddMarkerSql);
                command.Parameters.AddWithValue("$id", marker.Id.ToString("N"));
                command.Parameters.AddWithValue("$at", marker.At.ToUnixTimeSeconds());
                command.Parameters.AddWithValue("$memo", (object?)marker.Memo ?? DBNull.Value);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return true;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var command in (SqliteCommand?[])[_readMarkers, _addMarker, _readRow, _writeRow])
            {
                if (command is not null)
                {
                    await command.DisposeAsync().ConfigureAwait(false);
                }
            }
        }

        /// <summary>The batch's statement for <paramref name="sql"/>, its parameters cleared for the next use.</summary>
        private SqliteCommand Prepared(ref SqliteCommand? command, string sql)
        {
            command ??= SqliteDatabase.Command(connection, transaction, sql);
            command.Parameters.Clear();
            return command;
        }
    }
}
