using System.Globalization;

namespace LlmTrace.Domain.Records;

/// <summary>A process-local <see cref="IRecordStore"/>, for tests and single-process runs without a database.</summary>
public sealed class InMemoryRecordStore : IRecordStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Table, string Partition), SortedDictionary<string, StoredRecord>> _partitions = [];
    private long _version;

    public Task<StoredRecord?> GetAsync(string table, string partition, string key, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(Partition(table, partition).GetValueOrDefault(key));
        }
    }

    public Task<RecordPage> ListAsync(string table, string partition, string? afterKey, int limit, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var items = Partition(table, partition).Values
                .Where(r => afterKey is null || string.CompareOrdinal(r.Key, afterKey) > 0)
                .Take(limit + 1)
                .ToList();
            var more = items.Count > limit;
            if (more)
            {
                items.RemoveAt(limit);
            }

            return Task.FromResult(new RecordPage(items, more ? items[^1].Key : null));
        }
    }

    public Task<string> InsertAsync(string table, string partition, string key, string json, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var records = Partition(table, partition);
            if (records.ContainsKey(key))
            {
                throw new RecordConflictException($"{table}/{partition}/{key} exists.");
            }

            var record = new StoredRecord(key, json, NextETag());
            records[key] = record;
            return Task.FromResult(record.ETag);
        }
    }

    public Task<string> ReplaceAsync(string table, string partition, string key, string json, string etag, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var records = Partition(table, partition);
            if (!records.TryGetValue(key, out var current) || current.ETag != etag)
            {
                throw new RecordConflictException($"{table}/{partition}/{key} changed.");
            }

            var record = new StoredRecord(key, json, NextETag());
            records[key] = record;
            return Task.FromResult(record.ETag);
        }
    }

    public Task<bool> DeleteAsync(string table, string partition, string key, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(Partition(table, partition).Remove(key));
        }
    }

    private SortedDictionary<string, StoredRecord> Partition(string table, string partition)
    {
        if (!_partitions.TryGetValue((table, partition), out var records))
        {
            records = new SortedDictionary<string, StoredRecord>(StringComparer.Ordinal);
            _partitions[(table, partition)] = records;
        }

        return records;
    }

    private string NextETag() => (++_version).ToString(CultureInfo.InvariantCulture);
}
