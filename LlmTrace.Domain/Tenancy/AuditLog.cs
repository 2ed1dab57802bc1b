using System.Text.Json;
using LlmTrace.Domain.Records;

namespace LlmTrace.Domain.Tenancy;

/// <summary>The append-only log of management writes, oldest first (keys are time-ordered UUIDv7).</summary>
public sealed class AuditLog(IRecordStore records, TimeProvider timeProvider)
{
    private const string Partition = "audit";

    public async Task<AuditEntry> AppendAsync(string actor, string action, Guid? tenantId, string? target, IReadOnlyList<string> changes, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var entry = new AuditEntry { AuditId = Guid.CreateVersion7(now), At = now, Actor = actor, Action = action, TenantId = tenantId, Target = target, Changes = changes };
        await records.InsertAsync(RecordTables.Audit, Partition, entry.AuditId.ToString("N"), JsonSerializer.Serialize(entry, TenancyJsonContext.Default.AuditEntry), cancellationToken).ConfigureAwait(false);
        return entry;
    }

    /// <summary>
    /// Entries matching the filter, oldest first, starting after <paramref name="afterKey"/>. Scans at most
    /// <paramref name="scanLimit"/> records per call so a selective filter cannot run unbounded; the next key continues.
    /// </summary>
    public async Task<(IReadOnlyList<AuditEntry> Items, string? NextKey)> QueryAsync(
        Guid? tenantId, DateTimeOffset? since, DateTimeOffset? until, string? afterKey, int limit, CancellationToken cancellationToken, int scanLimit = 5000)
    {
        if (afterKey is null && since is not null && since > DateTimeOffset.UnixEpoch)
        {
            // UUIDv7 keys sort by time: start just before the first possible id of that millisecond.
            afterKey = Guid.CreateVersion7(since.Value).ToString("N")[..12] + new string('0', 19);
        }

        var items = new List<AuditEntry>();
        var scanned = 0;
        var after = afterKey;
        while (items.Count < limit && scanned < scanLimit)
        {
            var page = await records.ListAsync(RecordTables.Audit, Partition, after, Math.Min(500, scanLimit - scanned), cancellationToken).ConfigureAwait(false);
            foreach (var record in page.Items)
            {
                scanned++;
                after = record.Key;
                var entry = JsonSerializer.Deserialize(record.Json, TenancyJsonContext.Default.AuditEntry)!;
                if (until is not null && entry.At >= until)
                {
                    return (items, null);
                }

                if ((tenantId is null || entry.TenantId == tenantId) && (since is null || entry.At >= since))
                {
                    items.Add(entry);
                    if (items.Count == limit)
                    {
                        return (items, page.NextKey is null && record == page.Items[^1] ? null : record.Key);
                    }
                }
            }

            if (page.NextKey is null)
            {
                return (items, null);
            }
        }

        return (items, after);
    }
}
