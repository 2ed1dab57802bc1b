using System.Collections.Concurrent;

namespace LlmTrace.Domain;

/// <summary>
/// Bounds the in-memory maps keyed by what clients choose (tenants, agents, models, addresses): once a map holds more
/// than its limit, its stale entries are dropped, and if every entry is still live — a flood of distinct keys — the map
/// starts over rather than grow without bound. Each caller says what "stale" means and what starting over costs.
/// </summary>
internal static class BoundedMap
{
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
