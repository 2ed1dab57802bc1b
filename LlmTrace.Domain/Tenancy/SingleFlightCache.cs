using System.Collections.Concurrent;

namespace LlmTrace.Domain.Tenancy;

/// <summary>
/// A small time-bounded cache for the request path. A fresh entry is answered from memory without allocating; when an
/// entry is missing or expired, one load runs and every concurrent caller for that key awaits it, so an expiry under
/// load costs one store read, not one per request in flight.
/// </summary>
/// <remarks>
/// Bounded: past <see cref="MaxEntries"/> entries (for example, callers inventing tenant ids or key ids) the cache is
/// emptied and refills from the store, so memory cannot grow without limit.
/// </remarks>
internal sealed class SingleFlightCache<TKey, TValue>(TimeProvider timeProvider)
    where TKey : notnull
{
    public const int MaxEntries = 50_000;

    private readonly ConcurrentDictionary<TKey, (TValue Value, DateTimeOffset Until)> _entries = new();
    private readonly ConcurrentDictionary<TKey, Task<TValue>> _loads = new();
    private long _version;

    public ValueTask<TValue> GetAsync(TKey key, TimeSpan lifetime, Func<TKey, CancellationToken, Task<TValue>> load, CancellationToken cancellationToken)
    {
        if (_entries.TryGetValue(key, out var entry) && entry.Until > timeProvider.GetUtcNow())
        {
            return ValueTask.FromResult(entry.Value);
        }

        return new ValueTask<TValue>(LoadAsync(key, lifetime, load, cancellationToken));
    }

    public void Set(TKey key, TValue value, TimeSpan lifetime)
    {
        if (_entries.Count >= MaxEntries)
        {
            _entries.Clear();
        }

        _entries[key] = (value, timeProvider.GetUtcNow() + lifetime);
    }

    /// <summary>Drops the entry; a load already in flight still answers its callers but is not kept.</summary>
    public void Invalidate(TKey key)
    {
        Interlocked.Increment(ref _version);
        _entries.TryRemove(key, out _);
        _loads.TryRemove(key, out _);
    }

    private async Task<TValue> LoadAsync(TKey key, TimeSpan lifetime, Func<TKey, CancellationToken, Task<TValue>> load, CancellationToken cancellationToken)
    {
        var started = false;
        var version = Interlocked.Read(ref _version);
        var task = _loads.GetOrAdd(key, k =>
        {
            started = true;
            // The shared load must not be cancelled by the one caller that happened to start it.
            return load(k, CancellationToken.None);
        });
        try
        {
            var value = await task.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (started && Interlocked.Read(ref _version) == version)
            {
                if (_entries.Count >= MaxEntries)
                {
                    _entries.Clear();
                }

                _entries[key] = (value, timeProvider.GetUtcNow() + lifetime);
            }

            return value;
        }
        finally
        {
            if (started)
            {
                _loads.TryRemove(new KeyValuePair<TKey, Task<TValue>>(key, task));
            }
        }
    }
}
