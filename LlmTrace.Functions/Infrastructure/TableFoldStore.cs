using System.Text;
using Azure;
using Azure.Data.Tables;
using LlmTrace.Domain.Folding;

namespace LlmTrace.Functions.Infrastructure;

/// <summary>
/// The Table Storage side of <see cref="IFoldStore{TKey, TRow}"/>, for every counter family: a commit is one
/// entity-group transaction in one partition, holding the changed rows with ETag conditions (a new row is an insert) and
/// one <c>applied|{id}</c> marker per item (an insert, so a redelivered item fails it). When another instance got there
/// first (409, 412, or a row deleted since it was read), the commit writes nothing and <see cref="ExactlyOnceFold"/> runs
/// the attempt again. A family names its table, partitions, row keys and how a row maps to an entity.
/// </summary>
public abstract class TableFoldStore<TKey, TRow> : IFoldStore<TKey, TRow>, IFoldSession<TKey, TRow>
    where TKey : notnull
{
    private const string MarkerPrefix = "applied|";

    // A filter may hold at most 15 comparisons: the partition and 14 row keys.
    private const int RowKeysPerQuery = 14;

    public abstract int MaxItemsPerCommit { get; }

    public bool CommitFailsOnExistingMarker => true;

    protected abstract TableClient Table { get; }

    /// <summary>The marker property that keeps an item's memo.</summary>
    protected virtual string MemoProperty => "Memo";

    public abstract string PartitionOf(TKey key);

    public Task RunAsync(Func<IFoldSession<TKey, TRow>, Task> work, CancellationToken cancellationToken) => work(this);

    public async Task<IReadOnlyDictionary<Guid, string?>> ReadMarkersAsync(string partition, IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken)
    {
        var found = await QueryAsync(partition, [.. ids.Select(Marker)], ["RowKey", MemoProperty], cancellationToken).ConfigureAwait(false);
        return found.ToDictionary(e => Guid.ParseExact(e.RowKey.AsSpan(MarkerPrefix.Length), "N"), e => (string?)e.GetString(MemoProperty));
    }

    public async Task<IReadOnlyDictionary<TKey, StoredRow<TRow>>> ReadRowsAsync(
        string partition, IReadOnlyCollection<TKey> keys, CancellationToken cancellationToken)
    {
        var byRowKey = keys.ToDictionary(RowKeyOf, StringComparer.Ordinal);
        var found = await QueryAsync(partition, [.. byRowKey.Keys], null, cancellationToken).ConfigureAwait(false);
        return found.ToDictionary(e => byRowKey[e.RowKey], e => new StoredRow<TRow>(FromEntity(byRowKey[e.RowKey], e), e.ETag.ToString()));
    }

    public async Task<bool> TryCommitAsync(
        string partition, IReadOnlyList<RowWrite<TKey, TRow>> rows, IReadOnlyList<FoldMarker> markers, CancellationToken cancellationToken)
    {
        var actions = new List<TableTransactionAction>(rows.Count + markers.Count);
        foreach (var row in rows)
        {
            var entity = ToEntity(partition, RowKeyOf(row.Key), row.Key, row.Row);
            actions.Add(row.Read is { } read
                ? new TableTransactionAction(TableTransactionActionType.UpdateReplace, entity, new ETag(read.Version!))
                : new TableTransactionAction(TableTransactionActionType.Add, entity));
        }

        foreach (var marker in markers)
        {
            var entity = new TableEntity(partition, Marker(marker.Id)) { ["At"] = marker.At };
            if (marker.Memo is not null)
            {
                entity[MemoProperty] = marker.Memo;
            }

            actions.Add(new TableTransactionAction(TableTransactionActionType.Add, entity));
        }

        try
        {
            await Table.SubmitTransactionAsync(actions, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412
            || (ex.Status == 404 && ex.ErrorCode == Azure.Data.Tables.Models.TableErrorCode.ResourceNotFound))
        {
            return false;
        }
    }

    protected abstract string RowKeyOf(TKey key);

    protected abstract TableEntity ToEntity(string partition, string rowKey, TKey key, TRow row);

    protected abstract TRow FromEntity(TKey key, TableEntity entity);

    private static string Marker(Guid id) => MarkerPrefix + id.ToString("N");

    /// <summary>The entities of a partition with the given row keys, a few queries at once.</summary>
    private async Task<List<TableEntity>> QueryAsync(
        string partition, IReadOnlyList<string> rowKeys, IEnumerable<string>? select, CancellationToken cancellationToken)
    {
        var queries = rowKeys.Chunk(RowKeysPerQuery).Select(async group =>
        {
            var filter = new StringBuilder(TableClient.CreateQueryFilter($"PartitionKey eq {partition}")).Append(" and (");
            for (var i = 0; i < group.Length; i++)
            {
                filter.Append(i == 0 ? string.Empty : " or ").Append(TableClient.CreateQueryFilter($"RowKey eq {group[i]}"));
            }

            var found = new List<TableEntity>(group.Length);
            await foreach (var entity in Table.QueryAsync<TableEntity>(
                filter.Append(')').ToString(), select: select, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                found.Add(entity);
            }

            return found;
        });
        return [.. (await Task.WhenAll(queries).ConfigureAwait(false)).SelectMany(f => f)];
    }
}
