using LlmTrace.Domain.Records;
using LlmTrace.Domain.Tenancy;
using Microsoft.AspNetCore.Http;

namespace LlmTrace.Domain.Management;

/// <summary>What every handler under <c>/api/tenants/{id}</c> does the same way: permission, existence, conditional update.</summary>
public sealed class TenantResource(TenantStore tenants)
{
    /// <summary>
    /// Applies <paramref name="change"/> to the stored tenant, honouring <c>If-Match</c>; without one, a concurrent write is
    /// read again and the change applied on top of it. Null when refused (the answer has been written).
    /// </summary>
    public async Task<TenantStore.Versioned?> UpdateAsync(HttpContext context, Guid tenantId, Func<Tenant, Tenant> change)
    {
        var ifMatch = context.Request.Headers.IfMatch.ToString();
        for (var attempt = 0; ; attempt++)
        {
            if (await FindAsync(context, tenantId).ConfigureAwait(false) is not { } stored)
            {
                return null;
            }

            if (ifMatch.Length > 0 && ifMatch != "*" && ifMatch != Quote(stored.ETag))
            {
                await Proxy.GatewayErrors.WriteAsync(
                    context,
                    Providers.ProviderKind.OpenAI,
                    StatusCodes.Status412PreconditionFailed,
                    "conflict_error",
                    "precondition_failed",
                    "The tenant changed since the ETag in If-Match; read it again.").ConfigureAwait(false);
                return null;
            }

            try
            {
                return await tenants.ReplaceAsync(change(stored.Tenant), stored.ETag, context.RequestAborted).ConfigureAwait(false);
            }
            catch (RecordConflictException) when (attempt < 3 && ifMatch.Length == 0)
            {
                // A concurrent write: apply this change on top of it.
            }
            catch (RecordConflictException)
            {
                await ManagementHttp.ConflictAsync(context, "concurrent_update", "The tenant is being changed concurrently; try again.").ConfigureAwait(false);
                return null;
            }
        }
    }

    /// <summary>The tenant, when the caller may read it and it exists; null when refused (the answer has been written).</summary>
    public async Task<TenantStore.Versioned?> ReadAsync(HttpContext context, Caller caller, Guid tenantId)
        => await CanAsync(context, caller.CanRead(tenantId)).ConfigureAwait(false) ? await FindAsync(context, tenantId).ConfigureAwait(false) : null;

    /// <summary>Whether the tenant exists; answers 404 when not.</summary>
    public async Task<bool> ExistsAsync(HttpContext context, Guid tenantId) => await FindAsync(context, tenantId).ConfigureAwait(false) is not null;

    /// <summary>The body of a write the caller may make; null when refused or unreadable (the answer has been written).</summary>
    public static async Task<T?> ReadPermittedAsync<T>(HttpContext context, bool allowed, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        where T : class
        => await CanAsync(context, allowed).ConfigureAwait(false) ? await ManagementHttp.ReadBodyAsync(context, type).ConfigureAwait(false) : null;

    /// <summary>The answer to a tenant key that asks for what it may not do.</summary>
    public const string Refusal = "This key may not do that for this tenant.";

    /// <summary>Whether the caller may; answers 403 when not.</summary>
    public static async Task<bool> CanAsync(HttpContext context, bool allowed)
    {
        if (!allowed)
        {
            await ManagementAuthorizer.ForbiddenAsync(context, Refusal).ConfigureAwait(false);
        }

        return allowed;
    }

    /// <summary>
    /// The tenant a list or report is scoped to by its <c>tenantId</c> query parameter: any, or all when absent, for an
    /// administrator; for a tenant key its own, or another only when <paramref name="allowed"/> says so (otherwise 403
    /// with <paramref name="refusal"/>). Not ok when refused or malformed (the answer has been written).
    /// </summary>
    public static async Task<(bool Ok, Guid? TenantId)> QueryScopeAsync(HttpContext context, Caller caller, Func<Caller, Guid, bool> allowed, string refusal)
    {
        Guid? tenantId = null;
        if (context.Request.Query["tenantId"].ToString() is { Length: > 0 } text)
        {
            if (!Guid.TryParse(text, out var parsed))
            {
                await ManagementHttp.InvalidAsync(context, "tenantId", "tenantId must be a UUID.").ConfigureAwait(false);
                return (false, null);
            }

            tenantId = parsed;
        }

        if (caller.IsAdmin)
        {
            return (true, tenantId);
        }

        tenantId ??= caller.TenantId;
        if (!allowed(caller, tenantId!.Value))
        {
            await ManagementAuthorizer.ForbiddenAsync(context, refusal).ConfigureAwait(false);
            return (false, null);
        }

        return (true, tenantId);
    }

    /// <summary>The stored tenant, or null having answered 404.</summary>
    private async Task<TenantStore.Versioned?> FindAsync(HttpContext context, Guid tenantId)
    {
        var stored = await tenants.GetAsync(tenantId, context.RequestAborted).ConfigureAwait(false);
        if (stored is null)
        {
            await NotFoundAsync(context, tenantId).ConfigureAwait(false);
        }

        return stored;
    }

    private static Task NotFoundAsync(HttpContext context, Guid tenantId)
        => ManagementHttp.NotFoundAsync(context, "tenant_not_found", $"No tenant {tenantId}.");

    /// <summary>An HTTP entity tag for a store's version tag (whatever characters that has).</summary>
    public static string Quote(string etag) => "\"" + System.Buffers.Text.Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes(etag)) + "\"";
}
