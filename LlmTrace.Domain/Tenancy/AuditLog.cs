using System.Text.Json;
using LlmTrace.Domain.Records;

namespace LlmTrace.Domain.Tenancy;

/// <summary>
/// The append-only log of management writes, oldest first. Keys are the time in ticks, then this log's sequence (so
/// entries written in the same tick keep their order), then a random tag of this instance (so two processes writing in
/// the same tick never collide).
/// </summary>
public sealed class AuditLog(IRecordStore records, TimeProvider timeProvider)
{
    private const string Partition = "audit";
    private readonly string _origin = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4));
    private long _sequence;

    public async Task<AuditEntry> AppendAsync(
        string actor, string action, Guid? tenantId, string? target, IReadOnlyList<string> changes, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var entry = new AuditEntry { AuditId = Guid.CreateVersion7(now), At = now, Actor = actor, Action = action, TenantId = tenantId, Target = target, Changes = changes };
        var key = string.Create(
            System.Globalization.CultureInfo.InvariantCulture, $"{now.UtcTicks:D19}{Interlocked.Increment(ref _sequence) % 1_000_000:D6}{_origin}");
        await records.InsertAsync(
            RecordTables.Audit,
            Partition,
            key,
            JsonSerializer.Serialize(entry, TenancyJsonContext.Default.AuditEntry),
            cancellationToken).ConfigureAwait(false);
        return entry;
    }

    /// <summary>
    /// Entries matching the filter, oldest first, starting after <paramref name="afterKey"/>. Scans at most
    /// <paramref name="scanLimit"/> records per call so a selective filter cannot run unbounded; the next key continues.
    /// </summary>
    public async Task<(IReadOnlyList<AuditEntry> Items, string? NextKey)> QueryAsync(
        Guid? tenantId, DateTimeOffset? since, DateTimeOffset? until, string? afterKey, int limit, CancellationToken cancellationToken, int scanLimit = 5000)
    {
        if (afterKey is null && since is not null)
        {
            // Keys sort by time: start just before the first possible key of that tick.
            afterKey = (since.Value.UtcTicks - 1).ToString("D19", System.Globalization.CultureInfo.InvariantCulture);
        }

        var items = new List<AuditEntry>();
        var scanned = 0;
        var after = afterKey;
        while (items.Count < limit && scanned < scanLimit)
        {
            var page = await records.ListAsync(
                RecordTables.Audit, Partition, after, Math.Min(500, scanLimit - scanned), cancellationToken).ConfigureAwait(false);
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
