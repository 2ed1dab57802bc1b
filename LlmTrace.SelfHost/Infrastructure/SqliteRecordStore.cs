using System.Globalization;
using LlmTrace.Domain.Records;
using Microsoft.Data.Sqlite;

namespace LlmTrace.SelfHost.Infrastructure;

/// <summary>The record store in the SelfHost SQLite file: one <c>records</c> table, a version number as the ETag.</summary>
public sealed class SqliteRecordStore(SqliteDatabase database) : IRecordStore
{
    public async Task<StoredRecord?> GetAsync(string table, string partition, string key, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT key, json, version FROM records WHERE tbl = $t AND partition = $p AND key = $k";
        Bind(command, table, partition, key);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? Read(reader) : null;
    }

    public async Task<RecordPage> ListAsync(string table, string partition, string? afterKey, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT key, json, version FROM records WHERE tbl = $t AND partition = $p AND key > $k ORDER BY key LIMIT $n";
        Bind(command, table, partition, afterKey ?? string.Empty);
        command.Parameters.AddWithValue("$n", limit + 1);
        var items = new List<StoredRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            items.Add(Read(reader));
        }

        if (items.Count <= limit)
        {
            return new RecordPage(items, null);
        }

        items.RemoveAt(limit);
        return new RecordPage(items, items[^1].Key);
    }

    public Task<string> InsertAsync(string table, string partition, string key, string json, CancellationToken cancellationToken)
        => database.WriteAsync(async (connection, transaction) =>
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            // Versions come from one store-wide clock, so a record deleted and created again never repeats an old ETag.
            var next = await NextVersionAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
            command.CommandText = "INSERT INTO records (tbl, partition, key, json, version) VALUES ($t, $p, $k, $j, $n) ON CONFLICT DO NOTHING RETURNING version";
            Bind(command, table, partition, key);
            command.Parameters.AddWithValue("$j", json);
            command.Parameters.AddWithValue("$n", next);
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long version
                ? version.ToString(CultureInfo.InvariantCulture)
                : throw new RecordConflictException($"{table}/{partition}/{key} exists.");
        }, cancellationToken);

    public Task<string> ReplaceAsync(string table, string partition, string key, string json, string etag, CancellationToken cancellationToken)
        => database.WriteAsync(async (connection, transaction) =>
        {
            if (!long.TryParse(etag, NumberStyles.None, CultureInfo.InvariantCulture, out var version))
            {
                throw new RecordConflictException($"{table}/{partition}/{key}: not a version this store issued.");
            }

            await using var command = SqliteDatabase.Command(
                connection,
                transaction,
                "UPDATE records SET json = $j, version = $n WHERE tbl = $t AND partition = $p AND key = $k AND version = $v RETURNING version");
            Bind(command, table, partition, key);
            command.Parameters.AddWithValue("$j", json);
            command.Parameters.AddWithValue("$v", version);
            command.Parameters.AddWithValue("$n", await NextVersionAsync(connection, transaction, cancellationToken).ConfigureAwait(false));
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long next
                ? next.ToString(CultureInfo.InvariantCulture)
                : throw new RecordConflictException($"{table}/{partition}/{key} changed.");
        }, cancellationToken);

    public Task<bool> DeleteAsync(string table, string partition, string key, CancellationToken cancellationToken)
        => database.WriteAsync(async (connection, transaction) =>
        {
            await using var command = SqliteDatabase.Command(connection, transaction, "DELETE FROM records WHERE tbl = $t AND partition = $p AND key = $k");
            Bind(command, table, partition, key);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        }, cancellationToken);

    private static async Task<long> NextVersionAsync(SqliteConnection connection, SqliteTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = SqliteDatabase.Command(connection, transaction, "UPDATE record_clock SET n = n + 1 WHERE id = 1 RETURNING n");
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private static void Bind(SqliteCommand command, string table, string partition, string key)
    {
        command.Parameters.AddWithValue("$t", table);
        command.Parameters.AddWithValue("$p", partition);
        command.Parameters.AddWithValue("$k", key);
    }

    private static StoredRecord Read(SqliteDataReader reader)
        => new(reader.GetString(0), reader.GetString(1), reader.GetInt64(2).ToString(CultureInfo.InvariantCulture));
}
