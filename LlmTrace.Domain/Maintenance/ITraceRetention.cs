namespace LlmTrace.Domain.Maintenance;

/// <summary>
/// A trace store that deletes old traces itself when asked (SQLite). Stores that expire items on their own, such as
/// Cosmos DB with a time to live, do not implement it.
/// </summary>
public interface ITraceRetention
{
    /// <summary>
    /// Deletes traces started before their tenant's cut-off (<paramref name="tenantCutoffs"/>), and, for every other
    /// tenant, before the store's default retention counted back from <paramref name="now"/>. Returns how many it deleted.
    /// </summary>
    Task<int> PurgeAsync(IReadOnlyDictionary<Guid, DateTimeOffset> tenantCutoffs, DateTimeOffset now, CancellationToken cancellationToken);
}
