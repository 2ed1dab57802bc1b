using LlmTrace.Domain.Records;
using LlmTrace.Domain.Tenancy;
using Microsoft.AspNetCore.Http;

namespace LlmTrace.Domain.Management;

/// <summary>
/// Tenants (<c>/api/tenants</c>). Administrators manage every tenant; a tenant-admin key manages its own tenant's
/// everyday settings, but not the limits set on it (tenant budgets, rate limits, token caps, enforcement policies,
/// provider credentials); a viewer key reads. Keys, budgets and the audit log have their own handlers
/// (<see cref="KeysApi"/>, <see cref="BudgetsApi"/>, <see cref="AuditApi"/>).
/// </summary>
public sealed class TenantsApi(
    TenantStore tenants,
    TenantResource resource,
    GatewayKeyStore keys,
    AuditLog audit,
    Microsoft.Extensions.Options.IOptionsMonitor<Alerts.AlertOptions> alerts,
    TimeProvider timeProvider)
{
    public async Task ListAsync(HttpContext context, Caller caller)
    {
        if (!ManagementPaging.TryPage(context.Request.Query, out var limit, out var after))
        {
            await ManagementHttp.InvalidAsync(
                context, "limit/continuationToken", $"{ManagementPaging.Problem} continuationToken must be one this API issued.").ConfigureAwait(false);
            return;
        }

        if (!caller.IsAdmin)
        {
            var own = await tenants.GetAsync(caller.TenantId!.Value, context.RequestAborted).ConfigureAwait(false);
            await ManagementHttp.WriteJsonAsync(
                context, 200, new TenantPage(own is null ? [] : [own.Tenant], null), ManagementJsonContext.Default.TenantPage).ConfigureAwait(false);
            return;
        }

        var (items, next) = await tenants.ListAsync(after, limit, context.RequestAborted).ConfigureAwait(false);
        await ManagementHttp.WriteJsonAsync(
            context, 200, new TenantPage(items, ContinuationToken.Encode(next)), ManagementJsonContext.Default.TenantPage).ConfigureAwait(false);
    }

    public async Task CreateAsync(HttpContext context, Caller caller)
    {
        if (!caller.IsAdmin)
        {
            await ManagementAuthorizer.ForbiddenAsync(context, "Only an administrator can create tenants.").ConfigureAwait(false);
            return;
        }

        var input = await ManagementHttp.ReadBodyAsync(context, ManagementJsonContext.Default.TenantInput).ConfigureAwait(false);
        if (input is null)
        {
            return;
        }

        var errors = new ValidationErrors();
        TenantValidation.Tenant(input, create: true, errors, alerts.CurrentValue.AllowPrivateTenantWebhooks);
        if (errors.Count > 0)
        {
            await ManagementHttp.ValidationFailedAsync(context, errors).ConfigureAwait(false);
            return;
        }

        var now = timeProvider.GetUtcNow();
        var tenant = Merge(new Tenant { TenantId = input.TenantId ?? Guid.CreateVersion7(now), Name = input.Name!.Trim(), CreatedAt = now }, input, now);
        try
        {
            await tenants.CreateAsync(tenant, context.RequestAborted).ConfigureAwait(false);
        }
        catch (RecordConflictException)
        {
            await ManagementHttp.ConflictAsync(
                context, "tenant_exists", $"Tenant {tenant.TenantId} already exists; change it with PATCH.").ConfigureAwait(false);
            return;
        }

        await audit.AppendAsync(caller.Actor, "tenant.create", tenant.TenantId, null, Changed(input), context.RequestAborted).ConfigureAwait(false);
        context.Response.Headers.Location = $"/api/tenants/{tenant.TenantId}";
        await ManagementHttp.WriteJsonAsync(context, StatusCodes.Status201Created, tenant, ManagementJsonContext.Default.Tenant).ConfigureAwait(false);
    }

    public async Task GetAsync(HttpContext context, Caller caller, Guid tenantId)
    {
        if (await resource.ReadAsync(context, caller, tenantId).ConfigureAwait(false) is not { } stored)
        {
            return;
        }

        context.Response.Headers.ETag = TenantResource.Quote(stored.ETag);
        await ManagementHttp.WriteJsonAsync(context, 200, stored.Tenant, ManagementJsonContext.Default.Tenant).ConfigureAwait(false);
    }

    /// <summary>Changes the fields the body names. <c>If-Match</c> (the ETag of a GET) makes it conditional: 412 when changed since.</summary>
    public async Task PatchAsync(HttpContext context, Caller caller, Guid tenantId)
    {
        if (await TenantResource.ReadPermittedAsync(
            context, caller.CanManage(tenantId), ManagementJsonContext.Default.TenantInput).ConfigureAwait(false) is not { } input)
        {
            return;
        }

        var errors = new ValidationErrors();
        TenantValidation.Tenant(input, create: false, errors, alerts.CurrentValue.AllowPrivateTenantWebhooks);
        if (input.TenantId is { } id && id != tenantId)
        {
            errors.Add("tenantId", "A tenant's id cannot change.");
        }

        if (!caller.IsAdmin)
        {
            foreach (var field in AdminOnlyFields(input))
            {
                errors.Add(field, "Only an administrator can change the limits, policies, scope, PII handling and retention set on a tenant.");
            }
        }

        if (errors.Count > 0)
        {
            await ManagementHttp.ValidationFailedAsync(context, errors).ConfigureAwait(false);
            return;
        }

        var updated = await resource.UpdateAsync(context, tenantId, t => Merge(t, input, timeProvider.GetUtcNow())).ConfigureAwait(false);
        if (updated is null)
        {
            return;
        }

        await audit.AppendAsync(caller.Actor, "tenant.update", tenantId, null, Changed(input), context.RequestAborted).ConfigureAwait(false);
        context.Response.Headers.ETag = TenantResource.Quote(updated.ETag);
        await ManagementHttp.WriteJsonAsync(context, 200, updated.Tenant, ManagementJsonContext.Default.Tenant).ConfigureAwait(false);
    }

    /// <summary>Deletes the tenant and revokes all its keys. Its traces and spend history stay until they expire.</summary>
    public async Task DeleteAsync(HttpContext context, Caller caller, Guid tenantId)
    {
        if (!caller.IsAdmin)
        {
            await ManagementAuthorizer.ForbiddenAsync(context, "Only an administrator can delete tenants.").ConfigureAwait(false);
            return;
        }

        if (!await resource.ExistsAsync(context, tenantId).ConfigureAwait(false))
        {
            return;
        }

        // Keys first: a failure part-way leaves a tenant whose keys no longer work, never keys of a deleted tenant.
        foreach (var key in await keys.ListAsync(tenantId, context.RequestAborted).ConfigureAwait(false))
        {
            await keys.RevokeAsync(key.KeyId, context.RequestAborted).ConfigureAwait(false);
        }

        await tenants.DeleteAsync(tenantId, context.RequestAborted).ConfigureAwait(false);

        await audit.AppendAsync(caller.Actor, "tenant.delete", tenantId, null, [], context.RequestAborted).ConfigureAwait(false);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static Tenant Merge(Tenant tenant, TenantInput input, DateTimeOffset now) => tenant with
    {
        Name = input.Name?.Trim() ?? tenant.Name,
        MonitoringScope = input.MonitoringScope ?? tenant.MonitoringScope,
        PiiHandling = input.PiiHandling ?? tenant.PiiHandling,
        EnforcementPolicies = input.EnforcementPolicies is null ? tenant.EnforcementPolicies : new(input.EnforcementPolicies, StringComparer.OrdinalIgnoreCase),
        RetentionDays = input.RetentionDays ?? tenant.RetentionDays,
        Budgets = input.Budgets is null ? tenant.Budgets : Tenant.NormalizeWindows(input.Budgets),
        AgentBudgets = input.AgentBudgets is null ? tenant.AgentBudgets : Tenant.NormalizeAgents(input.AgentBudgets),
        RateLimits = input.RateLimits ?? tenant.RateLimits,
        TokenCaps = input.TokenCaps ?? tenant.TokenCaps,
        AlertWebhooks = input.AlertWebhooks is null ? tenant.AlertWebhooks : [.. input.AlertWebhooks.Select(u => new Uri(u))],
        ProviderKeys = input.ProviderKeys is null
            ? tenant.ProviderKeys
            : input.ProviderKeys.ToDictionary(kv => kv.Key.ToLowerInvariant(), kv => kv.Value, StringComparer.OrdinalIgnoreCase),
        AutoCreated = false,
        UpdatedAt = now,
    };

    /// <summary>
    /// Every settable tenant field: its name, whether the input sets it, and whether only an administrator may. A
    /// tenant-admin may not change the limits or the security posture set on the tenant; scope, PII handling and
    /// retention count as posture, because each could switch off blocking, redaction or the evidence an admin relies on.
    /// </summary>
    private static readonly (string Name, Func<TenantInput, bool> IsSet, bool AdminOnly)[] Fields =
    [
        ("name", i => i.Name is not null, false),
        ("monitoringScope", i => i.MonitoringScope is not null, true),
        ("piiHandling", i => i.PiiHandling is not null, true),
        ("enforcementPolicies", i => i.EnforcementPolicies is not null, true),
        ("retentionDays", i => i.RetentionDays is not null, true),
        ("budgets", i => i.Budgets is not null, true),
        ("agentBudgets", i => i.AgentBudgets is not null, false),
        ("rateLimits", i => i.RateLimits is not null, true),
        ("tokenCaps", i => i.TokenCaps is not null, true),
        ("alertWebhooks", i => i.AlertWebhooks is not null, false),
        ("providerKeys", i => i.ProviderKeys is not null, true),
    ];

    private static IEnumerable<string> AdminOnlyFields(TenantInput input) => Fields.Where(f => f.AdminOnly && f.IsSet(input)).Select(f => f.Name);

    /// <summary>The names of the fields the input sets (for the audit log; never their values).</summary>
    private static List<string> Changed(TenantInput input) => [.. Fields.Where(f => f.IsSet(input)).Select(f => f.Name)];
}
