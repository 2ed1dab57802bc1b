namespace LlmTrace.Domain.Folding;

/// <summary>
/// Rows and markers in process memory, one partition, one batch at a time: for tests, and for hosts running without
/// storage. Rows are copied in and out (<c>copy</c>, for mutable rows), so a fold never changes a stored row before its
/// commit and a reader never sees one half-folded.
/// </summary>
public class InMemoryFoldStore<TKey, TRow>(Func<TRow, TRow>? copy = null) : IFoldStore<TKey, TRow>, IFoldSession<TKey, TRow>
    where TKey : notnull
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<TKey, TRow> _rows = [];
    private readonly Dictionary<Guid, FoldMarker> _markers = [];
    private readonly Func<TRow, TRow> _copy = copy ?? (row => row);

    public int MaxItemsPerCommit => int.MaxValue;

    public bool CommitFailsOnExistingMarker => false;

    public string PartitionOf(TKey key) => string.Empty;

    public async Task RunAsync(Func<IFoldSession<TKey, TRow>, Task> work, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await work(this).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    Task<IReadOnlyDictionary<Guid, string?>> IFoldSession<TKey, TRow>.ReadMarkersAsync(
        string partition, IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken)
    {
        IReadOnlyDictionary<Guid, string?> seen = ids.Where(_markers.ContainsKey).ToDictionary(id => id, id => _markers[id].Memo);
        return Task.FromResult(seen);
    }

    Task<IReadOnlyDictionary<TKey, StoredRow<TRow>>> IFoldSession<TKey, TRow>.ReadRowsAsync(
        string partition, IReadOnlyCollection<TKey> keys, CancellationToken cancellationToken)
    {
        IReadOnlyDictionary<TKey, StoredRow<TRow>> rows = keys.Where(_rows.ContainsKey).ToDictionary(
            key => key, key => new StoredRow<TRow>(_copy(_rows[key]), null));
        return Task.FromResult(rows);
    }

    /// <remarks>Batches run one at a time under the store's gate, so nothing can change between a read and this commit.</remarks>
    Task<bool> IFoldSession<TKey, TRow>.TryCommitAsync(
        string partition, IReadOnlyList<RowWrite<TKey, TRow>> rows, IReadOnlyList<FoldMarker> markers, CancellationToken cancellationToken)
    {
        foreach (var row in rows)
        {
            _rows[row.Key] = _copy(row.Row);
        }

        foreach (var marker in markers)
        {
            _markers.Add(marker.Id, marker);
        }

        return Task.FromResult(true);
    }

    /// <summary>Runs <paramref name="access"/> over the stored rows and markers between batches (reports, closing, pruning).</summary>
    protected T Access<T>(Func<Dictionary<TKey, TRow>, Dictionary<Guid, FoldMarker>, T> access)
    {
        _gate.Wait();
        try
        {
            return access(_rows, _markers);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A copy of a stored row, as readers outside a batch must see it.</summary>
    protected TRow Copy(TRow row) => _copy(row);
}
