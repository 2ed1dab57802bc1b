using LlmTrace.Domain.Processing;

namespace LlmTrace.SelfHost.Infrastructure;

/// <summary>Poison messages in the <c>poison</c> table; the reference is <c>{queue}/{messageId}</c>.</summary>
internal sealed class SqlitePoisonStore(SqliteDatabase database, TimeProvider timeProvider) : IPoisonStore
{
    public async Task<string> SaveAsync(string queue, string messageId, string message, CancellationToken cancellationToken)
    {
        var reference = $"{queue}/{messageId}";
        await database.WriteAsync(async (connection, transaction) =>
        {
            await using var command = SqliteDatabase.Command(
                connection, transaction, "INSERT OR REPLACE INTO poison (reference, queue, message_id, stored_at, message) VALUES ($r, $q, $m, $t, $b)");
            command.Parameters.AddWithValue("$r", reference);
            command.Parameters.AddWithValue("$q", queue);
            command.Parameters.AddWithValue("$m", messageId);
            command.Parameters.AddWithValue("$t", timeProvider.GetUtcNow().ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$b", message);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        return reference;
    }

    public async Task<IReadOnlyList<PoisonEntry>> ListAsync(int max, CancellationToken cancellationToken)
        => await QueryAsync(
            "SELECT reference, queue, message_id, stored_at, message FROM poison ORDER BY stored_at, reference LIMIT $n",
            ("$n", max),
            cancellationToken).ConfigureAwait(false);

    public async Task<PoisonEntry?> GetAsync(string reference, CancellationToken cancellationToken)
        => (await QueryAsync(
            "SELECT reference, queue, message_id, stored_at, message FROM poison WHERE reference = $r",
            ("$r", reference),
            cancellationToken).ConfigureAwait(false)).FirstOrDefault();

    public Task RemoveAsync(string reference, CancellationToken cancellationToken)
        => database.WriteAsync(async (connection, transaction) =>
        {
            await using var command = SqliteDatabase.Command(connection, transaction, "DELETE FROM poison WHERE reference = $r");
            command.Parameters.AddWithValue("$r", reference);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    private async Task<List<PoisonEntry>> QueryAsync(string sql, (string Name, object Value) parameter, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue(parameter.Name, parameter.Value);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var entries = new List<PoisonEntry>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            entries.Add(
                new PoisonEntry(
                    reader.GetString(0),
                    reader.GetString(1),
                    reader.GetString(2),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)),
                    reader.GetString(4)));
        }

        return entries;
    }
}
