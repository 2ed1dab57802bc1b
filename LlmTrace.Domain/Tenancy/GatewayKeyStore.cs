using System.Collections.Concurrent;
using System.Text.Json;
using LlmTrace.Domain.Records;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Tenancy;

/// <summary>Gateway keys over the record store: creation, listing, revocation, and the cached lookup the request path uses.</summary>
public sealed class GatewayKeyStore(IRecordStore records, IOptionsMonitor<TenancyOptions> options, TimeProvider timeProvider)
{
    private const string Partition = "key";
    private static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);
    private readonly SingleFlightCache<string, GatewayKey?> _cache = new(timeProvider);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastUsedWritten = new(StringComparer.Ordinal);

    public async Task<(string Secret, GatewayKey Key)> CreateAsync(
        Guid tenantId, string? name, IReadOnlyList<string> roles, RateLimitSettings? limits, string? createdBy, CancellationToken cancellationToken)
    {
        var (secret, key) = GatewayKeyFormat.Create(tenantId, name, roles, limits, createdBy, timeProvider.GetUtcNow());
        await records.InsertAsync(RecordTables.GatewayKeys, Partition, key.KeyId, Serialize(key), cancellationToken).ConfigureAwait(false);
        return (secret, key);
    }

    public async Task<GatewayKey?> GetAsync(string keyId, CancellationToken cancellationToken)
    {
        var record = await records.GetAsync(RecordTables.GatewayKeys, Partition, keyId, cancellationToken).ConfigureAwait(false);
        return record is null ? null : Deserialize(record.Json);
    }

    /// <summary>All keys of a tenant, newest first (revoked ones included, marked).</summary>
    public async Task<IReadOnlyList<GatewayKey>> ListAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        var keys = new List<GatewayKey>();
        string? after = null;
        do
        {
            var page = await records.ListAsync(RecordTables.GatewayKeys, Partition, after, 500, cancellationToken).ConfigureAwait(false);
            keys.AddRange(page.Items.Select(r => Deserialize(r.Json)).Where(k => k.TenantId == tenantId));
            after = page.NextKey;
        }
        while (after is not null);

        return [.. keys.OrderByDescending(k => k.CreatedAt)];
    }

    /// <summary>Marks the key revoked; it stops working here at once and in other processes within the cache interval.</summary>
    public async Task<GatewayKey?> RevokeAsync(string keyId, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var record = await records.GetAsync(RecordTables.GatewayKeys, Partition, keyId, cancellationToken).ConfigureAwait(false);
            if (record is null)
            {
                return null;
            }

            var key = Deserialize(record.Json);
            if (key.RevokedAt is not null)
            {
                _cache.Invalidate(keyId);
                return key;
            }

            var revoked = key with { RevokedAt = timeProvider.GetUtcNow() };
            try
            {
                await records.ReplaceAsync(
                    RecordTables.GatewayKeys, Partition, keyId, Serialize(revoked), record.ETag, cancellationToken).ConfigureAwait(false);
                _cache.Invalidate(keyId);
                return revoked;
            }
            catch (RecordConflictException) when (attempt < 5)
            {
                // A last-used update raced the revocation: read again.
            }
        }
    }

    /// <summary>
    /// The active key a presented secret belongs to, or null (unknown, wrong secret, revoked). The record comes from the
    /// cache when fresh; the secret is always verified.
    /// </summary>
    public async Task<GatewayKey?> AuthenticateAsync(string presented, CancellationToken cancellationToken)
    {
        if (!GatewayKeyFormat.TryParse(presented, out var keyId, out var secret))
        {
            return null;
        }

        var key = await _cache.GetAsync(keyId, TimeSpan.FromSeconds(options.CurrentValue.CacheSeconds), GetAsync, cancellationToken).ConfigureAwait(false);

        return key is { RevokedAt: null } && GatewayKeyFormat.Verify(key, secret) ? key : null;
    }

    /// <summary>Records that the key was used, at most once a minute per key and process; failures are ignored.</summary>
    public async Task TouchAsync(GatewayKey key, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        if (_lastUsedWritten.TryGetValue(key.KeyId, out var written) && now - written < LastUsedResolution)
        {
            return;
        }

        _lastUsedWritten[key.KeyId] = now;
        var record = await records.GetAsync(RecordTables.GatewayKeys, Partition, key.KeyId, cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            return;
        }

        try
        {
            var current = Deserialize(record.Json);
            await records.ReplaceAsync(
                RecordTables.GatewayKeys,
                Partition,
                key.KeyId,
                Serialize(current with { LastUsedAt = now }),
                record.ETag,
                cancellationToken).ConfigureAwait(false);
        }
        catch (RecordConflictException)
        {
            // Someone else wrote it first (a revocation, or another instance's touch): theirs stands.
        }
    }

    private static string Serialize(GatewayKey key) => JsonSerializer.Serialize(key, TenancyJsonContext.Default.GatewayKey);

    private static GatewayKey Deserialize(string json) => JsonSerializer.Deserialize(json, TenancyJsonContext.Default.GatewayKey)
        ?? throw new InvalidDataException("A stored key is empty.");
}
