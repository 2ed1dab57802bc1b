using LlmTrace.Domain.Tenancy;
using Microsoft.AspNetCore.Http;

namespace LlmTrace.Domain.Management;

/// <summary>The audit log (<c>/api/audit</c>): administrators read every tenant's entries, a tenant's admins their own.</summary>
public sealed class AuditApi(AuditLog audit)
{
    public async Task ListAsync(HttpContext context, Caller caller)
    {
        var query = context.Request.Query;
        Guid? tenantId = null;
        if (query["tenantId"].ToString() is { Length: > 0 } text)
        {
            if (!Guid.TryParse(text, out var parsed))
            {
                await ManagementHttp.InvalidAsync(context, "tenantId", "tenantId must be a UUID.").ConfigureAwait(false);
                return;
            }

            tenantId = parsed;
        }

        if (!caller.IsAdmin)
        {
            tenantId ??= caller.TenantId;
            if (!await TenantResource.CanAsync(context, caller.CanManage(tenantId!.Value)).ConfigureAwait(false))
            {
                return;
            }
        }

        if (!ManagementPaging.TryPage(context.Request.Query, out var limit, out var after)
            || !ReportsApi.TryDate(query, "since", out var since) || !ReportsApi.TryDate(query, "until", out var until))
        {
            await ManagementHttp.InvalidAsync(
                context, null, $"{ManagementPaging.Problem} since/until must be ISO 8601; continuationToken one this API issued.").ConfigureAwait(false);
            return;
        }

        var (items, next) = await audit.QueryAsync(tenantId, since, until, after, limit, context.RequestAborted).ConfigureAwait(false);
        await ManagementHttp.WriteJsonAsync(
            context, 200, new AuditPage(items, ContinuationToken.Encode(next)), ManagementJsonContext.Default.AuditPage).ConfigureAwait(false);
    }
}
