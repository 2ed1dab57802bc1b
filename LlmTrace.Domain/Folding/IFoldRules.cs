namespace LlmTrace.Domain.Folding;

/// <summary>
/// What a family of counters folds, as pure domain knowledge: which rows an item counts in, how it changes them, and
/// what its result is. <see cref="ExactlyOnceFold"/> runs these rules over an <see cref="IFoldStore{TKey, TRow}"/> so that
/// each item (by id) is folded exactly once, whatever the store.
/// </summary>
public interface IFoldRules<in TItem, TKey, TRow, TResult>
    where TKey : notnull
{
    /// <summary>The id that makes folding idempotent: an item with an id folded before changes nothing.</summary>
    Guid IdOf(TItem item);

    /// <summary>When the item happened; markers keep it so stores can prune them by age.</summary>
    DateTimeOffset AtOf(TItem item);

    /// <summary>The rows the item counts in (at least one).</summary>
    IReadOnlyList<TKey> KeysOf(TItem item);

    /// <summary>A row that has never been written.</summary>
    TRow Empty(TKey key);

    /// <summary>
    /// Folds the item into <paramref name="rows"/>, which hold the current value of each of its keys in the partition being
    /// committed (an item whose keys span partitions is folded once per partition, with only that partition's keys).
    /// </summary>
    TResult Fold(TItem item, FoldRows<TKey, TRow> rows);

    /// <summary>What the item's applied marker keeps of its result, so a redelivery can answer the same (null: nothing).</summary>
    string? Memo(TResult result);

    /// <summary>The result for an item folded before, from its marker's memo.</summary>
    TResult Repeat(TItem item, string? memo);
}
