namespace LlmTrace.Domain.Records;

/// <summary>One stored document: its row key, its JSON, and the version tag used for optimistic concurrency.</summary>
public sealed record StoredRecord(string Key, string Json, string ETag);

/// <summary>A page of records in ascending key order; <see cref="NextKey"/> continues after the last one.</summary>
public sealed record RecordPage(IReadOnlyList<StoredRecord> Items, string? NextKey);

/// <summary>Raised when an insert finds the key taken, or a conditional replace finds another version (or none).</summary>
public sealed class RecordConflictException(string message) : Exception(message);

/// <summary>
/// The small keyed document store behind tenants, gateway keys, the audit log and distributed rate-limit counters:
/// (table, partition, key) → JSON with an ETag. SQLite in SelfHost, Table Storage in Azure. Keys sort ordinally.
/// </summary>
public interface IRecordStore
{
    Task<StoredRecord?> GetAsync(string table, string partition, string key, CancellationToken cancellationToken);

    /// <summary>Records of one partition with keys greater than <paramref name="afterKey"/>, ascending.</summary>
    Task<RecordPage> ListAsync(string table, string partition, string? afterKey, int limit, CancellationToken cancellationToken);

    /// <summary>Adds a new record and returns its ETag; <see cref="RecordConflictException"/> when the key exists.</summary>
    Task<string> InsertAsync(string table, string partition, string key, string json, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces the record when its ETag is still <paramref name="etag"/> and returns the new ETag;
    /// <see cref="RecordConflictException"/> when it changed or is gone.
    /// </summary>
    Task<string> ReplaceAsync(string table, string partition, string key, string json, string etag, CancellationToken cancellationToken);

    /// <summary>Removes the record; false when there was none.</summary>
    Task<bool> DeleteAsync(string table, string partition, string key, CancellationToken cancellationToken);
}

/// <summary>The logical tables.</summary>
public static class RecordTables
{
    public const string Tenants = "tenants";
    public const string GatewayKeys = "gatewaykeys";
    public const string Audit = "audit";
    public const string RateLimits = "ratelimits";

    /// <summary>Every logical table, for stores that provision them up front.</summary>
    public static IReadOnlyList<string> All { get; } = [Tenants, GatewayKeys, Audit, RateLimits];
}
