using System.Text.Json;
using LlmTrace.Domain.Records;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Tenancy;

/// <summary>Tenants over the record store, with a short per-process cache for the request path.</summary>
public sealed class TenantStore(IRecordStore records, IOptionsMonitor<TenancyOptions> options, TimeProvider timeProvider)
{
    private const string Partition = "tenant";
    private readonly SingleFlightCache<Guid, Tenant?> _cache = new(timeProvider);

    public sealed record Versioned(Tenant Tenant, string ETag);

    /// <summary>The stored tenant and its version, uncached (management reads and writes).</summary>
    public async Task<Versioned?> GetAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        var record = await records.GetAsync(RecordTables.Tenants, Partition, Key(tenantId), cancellationToken).ConfigureAwait(false);
        return record is null ? null : new Versioned(Deserialize(record.Json), record.ETag);
    }

    /// <summary>The tenant's settings for the request path, from the cache when fresh; null when the tenant is not stored.</summary>
    public ValueTask<Tenant?> GetCachedAsync(Guid tenantId, CancellationToken cancellationToken)
        => _cache.GetAsync(tenantId, Lifetime, async (id, ct) => (await GetAsync(id, ct).ConfigureAwait(false))?.Tenant, cancellationToken);

    private TimeSpan Lifetime => TimeSpan.FromSeconds(options.CurrentValue.CacheSeconds);

    /// <summary>Stores a tenant first seen on a call (pass-through mode); another instance creating it first is fine.</summary>
    public ValueTask<Tenant> GetOrCreateAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        var cached = GetCachedAsync(tenantId, cancellationToken);
        return cached.IsCompletedSuccessfully && cached.Result is { } existing
            ? ValueTask.FromResult(existing)
            : CreateIfMissingAsync(tenantId, cached, cancellationToken);
    }

    private async ValueTask<Tenant> CreateIfMissingAsync(Guid tenantId, ValueTask<Tenant?> lookup, CancellationToken cancellationToken)
    {
        if (await lookup.ConfigureAwait(false) is { } existing)
        {
            return existing;
        }

        var now = timeProvider.GetUtcNow();
        var tenant = new Tenant { TenantId = tenantId, Name = "tenant-" + tenantId.ToString("N")[..8], AutoCreated = true, CreatedAt = now, UpdatedAt = now };
        try
        {
            await records.InsertAsync(RecordTables.Tenants, Partition, Key(tenantId), Serialize(tenant), cancellationToken).ConfigureAwait(false);
        }
        catch (RecordConflictException)
        {
            Invalidate(tenantId);
            return await GetCachedAsync(tenantId, cancellationToken).ConfigureAwait(false) ?? tenant;
        }

        _cache.Set(tenantId, tenant, Lifetime);
        return tenant;
    }

    public async Task<Versioned> CreateAsync(Tenant tenant, CancellationToken cancellationToken)
    {
        var etag = await records.InsertAsync(RecordTables.Tenants, Partition, Key(tenant.TenantId), Serialize(tenant), cancellationToken).ConfigureAwait(false);
        Invalidate(tenant.TenantId);
        return new Versioned(tenant, etag);
    }

    /// <summary>Replaces the tenant if it is still at <paramref name="etag"/>; <see cref="RecordConflictException"/> otherwise.</summary>
    public async Task<Versioned> ReplaceAsync(Tenant tenant, string etag, CancellationToken cancellationToken)
    {
        var newTag = await records.ReplaceAsync(
            RecordTables.Tenants, Partition, Key(tenant.TenantId), Serialize(tenant), etag, cancellationToken).ConfigureAwait(false);
        Invalidate(tenant.TenantId);
        return new Versioned(tenant, newTag);
    }

    public async Task<bool> DeleteAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        var deleted = await records.DeleteAsync(RecordTables.Tenants, Partition, Key(tenantId), cancellationToken).ConfigureAwait(false);
        Invalidate(tenantId);
        return deleted;
    }

    public async Task<(IReadOnlyList<Tenant> Items, string? NextKey)> ListAsync(string? afterKey, int limit, CancellationToken cancellationToken)
    {
        var page = await records.ListAsync(RecordTables.Tenants, Partition, afterKey, limit, cancellationToken).ConfigureAwait(false);
        return ([.. page.Items.Select(r => Deserialize(r.Json))], page.NextKey);
    }

    public void Invalidate(Guid tenantId) => _cache.Invalidate(tenantId);

    private static string Key(Guid tenantId) => tenantId.ToString("D");

    private static string Serialize(Tenant tenant) => JsonSerializer.Serialize(tenant, TenancyJsonContext.Default.Tenant);

    private static Tenant Deserialize(string json) => JsonSerializer.Deserialize(json, TenancyJsonContext.Default.Tenant)
        ?? throw new InvalidDataException("A stored tenant is empty.");
}
