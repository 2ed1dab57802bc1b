using System.Collections.Concurrent;
using Azure;
using Azure.Data.Tables;
using LlmTrace.Domain.Records;
using Microsoft.Extensions.Options;

namespace LlmTrace.Functions.Infrastructure;

/// <summary>
/// The record store in Azure Table Storage: one table per logical table (<c>{prefix}{name}</c>), the document in a
/// <c>Json</c> property, the entity's ETag for optimistic concurrency. The tables are provisioned before any request:
/// by infra/ on Azure, by <see cref="LocalStorageInitializer"/> with a connection string. A missing table is a
/// deployment error, reported with its name, never created while serving a call.
/// </summary>
public sealed class TableRecordStore(AzureStorageClients clients, IOptions<AzureStorageOptions> options) : IRecordStore
{
    private const string TableNotFound = "TableNotFound";
    private readonly ConcurrentDictionary<string, TableClient> _tables = new(StringComparer.Ordinal);

    public async Task<StoredRecord?> GetAsync(string table, string partition, string key, CancellationToken cancellationToken)
    {
        // Not GetEntityIfExists: it answers "none" for a missing table too, which would hide a deployment error.
        try
        {
            var response = await WithTableAsync(
                table, t => t.GetEntityAsync<TableEntity>(partition, key, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return ToRecord(response.Value);
        }
        catch (RequestFailedException ex) when (ex.Status == 404 && ex.ErrorCode != TableNotFound)
        {
            return null;
        }
    }

    public Task<RecordPage> ListAsync(string table, string partition, string? afterKey, int limit, CancellationToken cancellationToken)
        => WithTableAsync(table, async t =>
        {
            var filter = afterKey is null
                ? TableClient.CreateQueryFilter($"PartitionKey eq {partition}")
                : TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey gt {afterKey}");
            var items = new List<StoredRecord>(Math.Min(limit, 1000));
            await foreach (var entity in t.QueryAsync<TableEntity>(
                filter, maxPerPage: Math.Min(limit + 1, 1000), select: ["RowKey", "Json"], cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                if (items.Count == limit)
                {
                    return new RecordPage(items, items[^1].Key);
                }

                items.Add(ToRecord(entity));
            }

            return new RecordPage(items, null);
        });

    public async Task<string> InsertAsync(string table, string partition, string key, string json, CancellationToken cancellationToken)
    {
        try
        {
            var response = await WithTableAsync(
                table, t => t.AddEntityAsync(new TableEntity(partition, key) { ["Json"] = json }, cancellationToken)).ConfigureAwait(false);
            return response.Headers.ETag?.ToString() ?? throw new InvalidOperationException("Table Storage returned no ETag.");
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            throw new RecordConflictException($"{table}/{partition}/{key} exists.");
        }
    }

    public async Task<string> ReplaceAsync(string table, string partition, string key, string json, string etag, CancellationToken cancellationToken)
    {
        try
        {
            var response = await WithTableAsync(
                table,
                t => t.UpdateEntityAsync(
                    new TableEntity(partition, key) { ["Json"] = json }, new ETag(etag), TableUpdateMode.Replace, cancellationToken)).ConfigureAwait(false);
            return response.Headers.ETag?.ToString() ?? throw new InvalidOperationException("Table Storage returned no ETag.");
        }
        catch (RequestFailedException ex) when (ex.Status is 412 or 404)
        {
            throw new RecordConflictException($"{table}/{partition}/{key} changed.");
        }
    }

    public async Task<bool> DeleteAsync(string table, string partition, string key, CancellationToken cancellationToken)
    {
        var existing = await GetAsync(table, partition, key, cancellationToken).ConfigureAwait(false);
        if (existing is null)
        {
            return false;
        }

        await WithTableAsync(table, t => t.DeleteEntityAsync(partition, key, ETag.All, cancellationToken)).ConfigureAwait(false);
        return true;
    }

    private static StoredRecord ToRecord(TableEntity entity)
        => new(entity.RowKey, entity.GetString("Json") ?? "{}", entity.ETag.ToString());

    /// <summary>The client of a logical table (<c>{prefix}{name}</c>).</summary>
    public TableClient Table(string table) => _tables.GetOrAdd(table, name => clients.Tables.GetTableClient(options.Value.RecordTablePrefix + name));

    private async Task<T> WithTableAsync<T>(string table, Func<TableClient, Task<T>> work)
    {
        var client = Table(table);
        try
        {
            return await work(client).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 404 && ex.ErrorCode == TableNotFound)
        {
            throw new InvalidOperationException(
                $"The table '{client.Name}' does not exist. Deploy infra/ (it creates every table), or check LlmTrace__Storage__RecordTablePrefix.", ex);
        }
    }
}
