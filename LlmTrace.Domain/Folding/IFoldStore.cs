namespace LlmTrace.Domain.Folding;

/// <summary>
/// The storage port of <see cref="ExactlyOnceFold"/>: rows with versions, applied markers, and a commit that writes rows
/// and markers atomically on the condition that nothing changed since they were read. A new store implements this (and
/// the reads its own interface adds); exactly-once is proven once, in Domain, for all of them.
/// </summary>
public interface IFoldStore<TKey, TRow>
    where TKey : notnull
{
    /// <summary>The unit one commit is atomic over (a Table Storage partition; one value for a store with transactions across everything).</summary>
    string PartitionOf(TKey key);

    /// <summary>How many items one commit may carry (a Table Storage transaction holds at most 100 actions).</summary>
    int MaxItemsPerCommit { get; }

    /// <summary>
    /// True when a commit itself fails on a marker that already exists, so a first attempt may skip reading markers and
    /// read them only after a conflict (redeliveries are rare; the read is a round trip).
    /// </summary>
    bool CommitFailsOnExistingMarker { get; }

    /// <summary>Runs the folding of one batch in the store's unit of work (for SQLite, one write transaction).</summary>
    Task RunAsync(Func<IFoldSession<TKey, TRow>, Task> work, CancellationToken cancellationToken);
}

/// <summary>Reads and the conditional commit, inside one <see cref="IFoldStore{TKey, TRow}.RunAsync"/>.</summary>
public interface IFoldSession<TKey, TRow>
    where TKey : notnull
{
    /// <summary>The ids among <paramref name="ids"/> that have an applied marker in the partition, with their memos.</summary>
    Task<IReadOnlyDictionary<Guid, string?>> ReadMarkersAsync(string partition, IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken);

    /// <summary>The rows among <paramref name="keys"/> that exist, with their versions; absent keys are left out.</summary>
    Task<IReadOnlyDictionary<TKey, StoredRow<TRow>>> ReadRowsAsync(string partition, IReadOnlyCollection<TKey> keys, CancellationToken cancellationToken);

    /// <summary>
    /// Writes <paramref name="rows"/> and adds <paramref name="markers"/> in one atomic step: each row only if its version
    /// is still the one read (a new row only if it still does not exist), each marker only if it is new. Returns false,
    /// having written nothing, when another writer got there first.
    /// </summary>
    Task<bool> TryCommitAsync(
        string partition, IReadOnlyList<RowWrite<TKey, TRow>> rows, IReadOnlyList<FoldMarker> markers, CancellationToken cancellationToken);
}

/// <summary>A row as read, and the version a conditional write of it must match (null where the store has no versions).</summary>
public readonly record struct StoredRow<TRow>(TRow Row, string? Version);

/// <summary>A row to write: <paramref name="Read"/> is the row as read, null when it did not exist.</summary>
public readonly record struct RowWrite<TKey, TRow>(TKey Key, TRow Row, StoredRow<TRow>? Read);

/// <summary>An item's applied marker: its id, when it happened (for pruning) and its memo.</summary>
public readonly record struct FoldMarker(Guid Id, DateTimeOffset At, string? Memo);
