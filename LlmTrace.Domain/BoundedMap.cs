using System.Collections.Concurrent;

namespace LlmTrace.Domain;

/// <summary>
/// Bounds the in-memory maps keyed by what clients choose (tenants, agents, models, addresses): once a map holds more
/// than its limit, its stale entries are dropped, and if every entry is still live — a flood of distinct keys — the map
/// starts over rather than grow without bound. Each caller says what "stale" means and what starting over costs.
/// </summary>
internal static class BoundedMap
{
    /// <summary>
    /// The entry for <paramref name="key"/>, added if missing. The map is trimmed only when a key is added: a lookup of a
    /// known key (the hot path) never pays for <see cref="ConcurrentDictionary{TKey, TValue}.Count"/>, which takes every lock.
    /// </summary>
    public static TValue GetOrAdd<TKey, TValue>(
        ConcurrentDictionary<TKey, TValue> map, TKey key, Func<TKey, TValue> factory, int limit, Func<TValue, bool> isStale)
        where TKey : notnull
    {
        if (map.TryGetValue(key, out var existing))
        {
            return existing;
        }

        Trim(map, limit, isStale);
        return map.GetOrAdd(key, factory);
    }

    public static void Trim<TKey, TValue>(ConcurrentDictionary<TKey, TValue> map, int limit, Func<TValue, bool> isStale)
        where TKey : notnull
    {
        if (map.Count < limit)
        {
            return;
        }

        foreach (var (key, value) in map)
        {
            if (isStale(value))
            {
                map.TryRemove(key, out _);
            }
        }

        if (map.Count >= limit)
        {
            map.Clear();
        }
    }
}
