using LlmTrace.Domain.Tenancy;
using Microsoft.AspNetCore.Http;

namespace LlmTrace.Domain.Management;

/// <summary>The audit log (<c>/api/audit</c>): administrators read every tenant's entries, a tenant's admins their own.</summary>
public sealed class AuditApi(AuditLog audit)
{
    public async Task ListAsync(HttpContext context, Caller caller)
    {
        var (ok, tenantId) = await TenantResource.QueryScopeAsync(
            context, caller, static (c, id) => c.CanManage(id), TenantResource.Refusal).ConfigureAwait(false);
        if (!ok)
        {
            return;
        }

        var query = context.Request.Query;
        if (!ManagementPaging.TryPage(query, out var limit, out var after)
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
