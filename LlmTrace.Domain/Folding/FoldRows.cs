namespace LlmTrace.Domain.Folding;

/// <summary>
/// The rows one commit folds into: each key's current value (as read, or empty), and which ones changed. Rules read a row,
/// and assign it back to record the change (rows may also be changed in place, then assigned).
/// </summary>
public sealed class FoldRows<TKey, TRow>
    where TKey : notnull
{
    private readonly Dictionary<TKey, Slot> _slots;

    internal FoldRows(IReadOnlyCollection<TKey> keys, IReadOnlyDictionary<TKey, StoredRow<TRow>> stored, Func<TKey, TRow> empty)
    {
        _slots = new Dictionary<TKey, Slot>(keys.Count);
        foreach (var key in keys)
        {
            _slots[key] = stored.TryGetValue(key, out var read) ? new Slot(read.Row, read, false) : new Slot(empty(key), null, false);
        }
    }

    /// <summary>Whether <paramref name="key"/> is one of this commit's rows (false for a key in another partition).</summary>
    public bool Contains(TKey key) => _slots.ContainsKey(key);

    public TRow this[TKey key]
    {
        get => _slots[key].Row;
        set => _slots[key] = _slots[key] with { Row = value, Changed = true };
    }

    internal List<RowWrite<TKey, TRow>> Changes()
    {
        var changes = new List<RowWrite<TKey, TRow>>(_slots.Count);
        foreach (var (key, slot) in _slots)
        {
            if (slot.Changed)
            {
                changes.Add(new RowWrite<TKey, TRow>(key, slot.Row, slot.Read));
            }
        }

        return changes;
    }

    private readonly record struct Slot(TRow Row, StoredRow<TRow>? Read, bool Changed);
}
