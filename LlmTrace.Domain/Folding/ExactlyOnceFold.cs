namespace LlmTrace.Domain.Folding;

/// <summary>
/// "Applied marker, fold, conditional write", written once for every counter family (spend windows, anomaly state,
/// traffic counters) and every store. Per partition and chunk of items, an attempt reads the markers (which items were
/// folded before) and the rows of the rest, folds those in order, and commits the changed rows with one marker per item
/// on the condition that nothing changed since the read. When another writer got there first, the attempt runs again
/// from a fresh read after a short random pause; so a redelivered item is never counted twice, and two writers never
/// lose each other's updates.
/// </summary>
public static class ExactlyOnceFold
{
    /// <summary>Attempts per chunk before giving up (<see cref="FoldConflictException"/>); the caller's retry takes over.</summary>
    public const int MaxAttempts = 20;

    /// <summary>Folds each item once; the result at index i is item i's (a repeat's is the one it got the first time).</summary>
    public static async Task<IReadOnlyList<TResult>> ApplyAsync<TItem, TKey, TRow, TResult>(
        IReadOnlyList<TItem> items,
        IFoldRules<TItem, TKey, TRow, TResult> rules,
        IFoldStore<TKey, TRow> store,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
        where TKey : notnull
    {
        var results = new TResult[items.Count];
        if (items.Count == 0)
        {
            return results;
        }

        var partitions = Partition(items, rules, store);
        await store.RunAsync(
            async session =>
            {
                foreach (var (partition, indexes) in partitions)
                {
                    foreach (var chunk in indexes.Chunk(Math.Max(1, store.MaxItemsPerCommit)))
                    {
                        await FoldChunkAsync(
                            new Chunk<TItem, TKey, TRow, TResult>(items, rules, store, session, partition, chunk, results),
                            timeProvider,
                            cancellationToken).ConfigureAwait(false);
                    }
                }
            },
            cancellationToken).ConfigureAwait(false);
        return results;
    }

    /// <summary>The indexes of the items each partition holds a key of, in order of first appearance.</summary>
    private static List<(string Partition, List<int> Indexes)> Partition<TItem, TKey, TRow, TResult>(
        IReadOnlyList<TItem> items, IFoldRules<TItem, TKey, TRow, TResult> rules, IFoldStore<TKey, TRow> store)
        where TKey : notnull
    {
        var partitions = new List<(string Partition, List<int> Indexes)>();
        var byName = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var i = 0; i < items.Count; i++)
        {
            var keys = rules.KeysOf(items[i]);
            if (keys.Count == 0)
            {
                throw new InvalidOperationException("Every folded item must count in at least one row.");
            }

            foreach (var key in keys)
            {
                var partition = store.PartitionOf(key);
                if (!byName.TryGetValue(partition, out var indexes))
                {
                    byName[partition] = indexes = [];
                    partitions.Add((partition, indexes));
                }

                if (indexes.Count == 0 || indexes[^1] != i)
                {
                    indexes.Add(i);
                }
            }
        }

        return partitions;
    }

    private static async Task FoldChunkAsync<TItem, TKey, TRow, TResult>(
        Chunk<TItem, TKey, TRow, TResult> chunk, TimeProvider timeProvider, CancellationToken cancellationToken)
        where TKey : notnull
    {
        for (var attempt = 1; ; attempt++)
        {
            var markersChecked = attempt > 1 || !chunk.Store.CommitFailsOnExistingMarker;
            if (await chunk.TryAsync(markersChecked, cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            if (attempt >= MaxAttempts)
            {
                throw new FoldConflictException(
                    $"Partition '{chunk.Partition}' kept changing under {MaxAttempts} attempts to fold {chunk.Indexes.Length} items.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 20 * attempt)), timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>One partition's chunk of a batch, and one attempt at folding it.</summary>
    private sealed record Chunk<TItem, TKey, TRow, TResult>(
        IReadOnlyList<TItem> Items,
        IFoldRules<TItem, TKey, TRow, TResult> Rules,
        IFoldStore<TKey, TRow> Store,
        IFoldSession<TKey, TRow> Session,
        string Partition,
        int[] Indexes,
        TResult[] Results)
        where TKey : notnull
    {
        private static readonly IReadOnlyDictionary<Guid, string?> NoMarkers = new Dictionary<Guid, string?>();

        /// <returns>False when the commit met another writer's change, so nothing was written.</returns>
        public async Task<bool> TryAsync(bool readMarkers, CancellationToken cancellationToken)
        {
            var seen = readMarkers
                ? await Session.ReadMarkersAsync(Partition, Indexes.Select(i => Rules.IdOf(Items[i])).ToHashSet(), cancellationToken).ConfigureAwait(false)
                : NoMarkers;
            var keys = new HashSet<TKey>();
            foreach (var i in Indexes)
            {
                if (!seen.ContainsKey(Rules.IdOf(Items[i])))
                {
                    keys.UnionWith(Rules.KeysOf(Items[i]).Where(k => Store.PartitionOf(k) == Partition));
                }
            }

            var rows = new FoldRows<TKey, TRow>(
                keys,
                keys.Count == 0
                    ? new Dictionary<TKey, StoredRow<TRow>>()
                    : await Session.ReadRowsAsync(Partition, keys, cancellationToken).ConfigureAwait(false),
                Rules.Empty);
            var markers = new List<FoldMarker>(Indexes.Length);
            var memos = new Dictionary<Guid, string?>();
            foreach (var i in Indexes)
            {
                var item = Items[i];
                var id = Rules.IdOf(item);
                if (seen.TryGetValue(id, out var memo) || memos.TryGetValue(id, out memo))
                {
                    Results[i] = Rules.Repeat(item, memo);
                    continue;
                }

                var result = Rules.Fold(item, rows);
                Results[i] = result;
                memos[id] = memo = Rules.Memo(result);
                markers.Add(new FoldMarker(id, Rules.AtOf(item), memo));
            }

            return markers.Count == 0 || await Session.TryCommitAsync(Partition, rows.Changes(), markers, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>A partition kept changing under every attempt to fold into it; nothing of the chunk was written.</summary>
internal sealed class FoldConflictException(string message) : Exception(message);
