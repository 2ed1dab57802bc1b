using LlmTrace.Domain.Tenancy;
using Microsoft.AspNetCore.Http;

namespace LlmTrace.Domain.Management;

/// <summary>
/// A tenant's gateway keys (<c>/api/tenants/{id}/keys</c>). Administrators and the tenant's own admins list, create and
/// revoke them; only an administrator creates or revokes an admin key. The secret is shown once, at creation.
/// </summary>
public sealed class KeysApi(TenantResource resource, GatewayKeyStore keys, AuditLog audit)
{
    public async Task ListAsync(HttpContext context, Caller caller, Guid tenantId)
    {
        if (!await TenantResource.CanAsync(context, caller.CanManage(tenantId)).ConfigureAwait(false)
            || !await resource.ExistsAsync(context, tenantId).ConfigureAwait(false))
        {
            return;
        }

        var list = await keys.ListAsync(tenantId, context.RequestAborted).ConfigureAwait(false);
        await ManagementHttp.WriteJsonAsync(
            context, 200, new KeyList([.. list.Select(KeyView.Of)]), ManagementJsonContext.Default.KeyList).ConfigureAwait(false);
    }

    public async Task CreateAsync(HttpContext context, Caller caller, Guid tenantId)
    {
        if (await TenantResource.ReadPermittedAsync(
            context, caller.CanManage(tenantId), ManagementJsonContext.Default.KeyInput).ConfigureAwait(false) is not { } input)
        {
            return;
        }

        var errors = new ValidationErrors();
        TenantValidation.Roles(input.Roles, errors);
        TenantValidation.RateLimits(input.RateLimits, "rateLimits", errors);
        if (input.Name is { Length: > TenantValidation.MaxNameLength })
        {
            errors.Add("name", $"At most {TenantValidation.MaxNameLength} characters.");
        }

        if (!caller.IsAdmin && input.Roles?.Contains(KeyRoles.Admin) == true)
        {
            errors.Add("roles", "Only an administrator can create admin keys.");
        }

        if (errors.Count > 0)
        {
            await ManagementHttp.ValidationFailedAsync(context, errors).ConfigureAwait(false);
            return;
        }

        if (!await resource.ExistsAsync(context, tenantId).ConfigureAwait(false))
        {
            return;
        }

        var roles = input.Roles is { Count: > 0 } given ? given.Distinct(StringComparer.Ordinal).ToList() : [KeyRoles.App];
        var (secret, key) = await keys.CreateAsync(tenantId, input.Name, roles, input.RateLimits, caller.Actor, context.RequestAborted).ConfigureAwait(false);
        await audit.AppendAsync(
            caller.Actor, "key.create", tenantId, key.KeyId, [.. roles.Select(r => "role:" + r)], context.RequestAborted).ConfigureAwait(false);
        context.Response.Headers.Location = $"/api/tenants/{tenantId}/keys/{key.KeyId}";
        await ManagementHttp.WriteJsonAsync(
            context, StatusCodes.Status201Created, new KeyCreated(secret, KeyView.Of(key)), ManagementJsonContext.Default.KeyCreated).ConfigureAwait(false);
    }

    public async Task RevokeAsync(HttpContext context, Caller caller, Guid tenantId, string keyId)
    {
        if (!await TenantResource.CanAsync(context, caller.CanManage(tenantId)).ConfigureAwait(false))
        {
            return;
        }

        var existing = GatewayKeyFormat.IsKeyId(keyId) ? await keys.GetAsync(keyId, context.RequestAborted).ConfigureAwait(false) : null;
        if (existing is null || existing.TenantId != tenantId)
        {
            await ManagementHttp.NotFoundAsync(context, "key_not_found", $"Tenant {tenantId} has no key {keyId}.").ConfigureAwait(false);
            return;
        }

        if (existing.Has(KeyRoles.Admin) && !caller.IsAdmin)
        {
            await ManagementAuthorizer.ForbiddenAsync(context, "Only an administrator can revoke an admin key.").ConfigureAwait(false);
            return;
        }

        await keys.RevokeAsync(keyId, context.RequestAborted).ConfigureAwait(false);
        await audit.AppendAsync(caller.Actor, "key.revoke", tenantId, keyId, [], context.RequestAborted).ConfigureAwait(false);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }
}
