using System.Collections.Concurrent;

namespace LlmTrace.Domain.Processing;

/// <summary>Poison messages in memory, for hosts whose stores are in memory too (development).</summary>
public sealed class InMemoryPoisonStore(TimeProvider timeProvider) : IPoisonStore
{
    private readonly ConcurrentDictionary<string, PoisonEntry> _entries = new(StringComparer.Ordinal);

    public Task<string> SaveAsync(string queue, string messageId, string message, CancellationToken cancellationToken)
    {
        var reference = $"{queue}/{messageId}";
        _entries[reference] = new PoisonEntry(reference, queue, messageId, timeProvider.GetUtcNow(), message);
        return Task.FromResult(reference);
    }

    public Task<IReadOnlyList<PoisonEntry>> ListAsync(int max, CancellationToken cancellationToken)
        => Task.FromResult<IReadOnlyList<PoisonEntry>>(
            [.. _entries.Values.OrderBy(e => e.StoredAt).ThenBy(e => e.Reference, StringComparer.Ordinal).Take(max)]);

    public Task<PoisonEntry?> GetAsync(string reference, CancellationToken cancellationToken)
        => Task.FromResult(_entries.GetValueOrDefault(reference));

    public Task RemoveAsync(string reference, CancellationToken cancellationToken)
    {
        _entries.TryRemove(reference, out _);
        return Task.CompletedTask;
    }
}
