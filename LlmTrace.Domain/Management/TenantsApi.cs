using System.Globalization;
using LlmTrace.Domain.Budgets;
using LlmTrace.Domain.Records;
using LlmTrace.Domain.Tenancy;
using Microsoft.AspNetCore.Http;

namespace LlmTrace.Domain.Management;

/// <summary>
/// Tenants, their keys, budgets and the audit log. Administrators manage every tenant; a tenant-admin key manages its own
/// tenant's keys, agent budgets and everyday settings, but not the limits set on it (tenant budgets, rate limits, token
/// caps, enforcement policies, provider credentials); a viewer key reads.
/// </summary>
public sealed class TenantsApi(TenantStore tenants, GatewayKeyStore keys, AuditLog audit, ISpendLedger ledger, Microsoft.Extensions.Options.IOptionsMonitor<Alerts.AlertOptions> alerts, TimeProvider timeProvider)
{

    public async Task ListAsync(HttpContext context, Caller caller)
    {
        if (!TryLimit(context, out var limit) || !TryToken(context, out var after))
        {
            await ManagementHttp.InvalidAsync(context, "limit/continuationToken", $"{ManagementPaging.Problem} continuationToken must be one this API issued.").ConfigureAwait(false);
            return;
        }

        if (!caller.IsAdmin)
        {
            var own = await tenants.GetAsync(caller.TenantId!.Value, context.RequestAborted).ConfigureAwait(false);
            await ManagementHttp.WriteJsonAsync(context, 200, new TenantPage(own is null ? [] : [own.Tenant], null), ManagementJsonContext.Default.TenantPage).ConfigureAwait(false);
            return;
        }

        var (items, next) = await tenants.ListAsync(after, limit, context.RequestAborted).ConfigureAwait(false);
        await ManagementHttp.WriteJsonAsync(context, 200, new TenantPage(items, ContinuationToken.Encode(next)), ManagementJsonContext.Default.TenantPage).ConfigureAwait(false);
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
            await ManagementHttp.ConflictAsync(context, "tenant_exists", $"Tenant {tenant.TenantId} already exists; change it with PATCH.").ConfigureAwait(false);
            return;
        }

        await audit.AppendAsync(caller.Actor, "tenant.create", tenant.TenantId, null, Changed(input), context.RequestAborted).ConfigureAwait(false);
        context.Response.Headers.Location = $"/api/tenants/{tenant.TenantId}";
        await ManagementHttp.WriteJsonAsync(context, StatusCodes.Status201Created, tenant, ManagementJsonContext.Default.Tenant).ConfigureAwait(false);
    }

    public async Task GetAsync(HttpContext context, Caller caller, Guid tenantId)
    {
        if (!await CanAsync(context, caller.CanRead(tenantId)).ConfigureAwait(false))
        {
            return;
        }

        var stored = await tenants.GetAsync(tenantId, context.RequestAborted).ConfigureAwait(false);
        if (stored is null)
        {
            await TenantNotFoundAsync(context, tenantId).ConfigureAwait(false);
            return;
        }

        context.Response.Headers.ETag = Quote(stored.ETag);
        await ManagementHttp.WriteJsonAsync(context, 200, stored.Tenant, ManagementJsonContext.Default.Tenant).ConfigureAwait(false);
    }

    /// <summary>Changes the fields the body names. <c>If-Match</c> (the ETag of a GET) makes it conditional: 412 when changed since.</summary>
    public async Task PatchAsync(HttpContext context, Caller caller, Guid tenantId)
    {
        if (await ReadPermittedAsync(context, caller.CanManage(tenantId), ManagementJsonContext.Default.TenantInput).ConfigureAwait(false) is not { } input)
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

        var updated = await UpdateAsync(context, tenantId, t => Merge(t, input, timeProvider.GetUtcNow())).ConfigureAwait(false);
        if (updated is null)
        {
            return;
        }

        await audit.AppendAsync(caller.Actor, "tenant.update", tenantId, null, Changed(input), context.RequestAborted).ConfigureAwait(false);
        context.Response.Headers.ETag = Quote(updated.ETag);
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

        if (await tenants.GetAsync(tenantId, context.RequestAborted).ConfigureAwait(false) is null)
        {
            await TenantNotFoundAsync(context, tenantId).ConfigureAwait(false);
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

    public async Task ListKeysAsync(HttpContext context, Caller caller, Guid tenantId)
    {
        if (!await CanAsync(context, caller.CanManage(tenantId)).ConfigureAwait(false) || !await ExistsAsync(context, tenantId).ConfigureAwait(false))
        {
            return;
        }

        var list = await keys.ListAsync(tenantId, context.RequestAborted).ConfigureAwait(false);
        await ManagementHttp.WriteJsonAsync(context, 200, new KeyList([.. list.Select(KeyView.Of)]), ManagementJsonContext.Default.KeyList).ConfigureAwait(false);
    }

    public async Task CreateKeyAsync(HttpContext context, Caller caller, Guid tenantId)
    {
        if (await ReadPermittedAsync(context, caller.CanManage(tenantId), ManagementJsonContext.Default.KeyInput).ConfigureAwait(false) is not { } input)
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

        if (!await ExistsAsync(context, tenantId).ConfigureAwait(false))
        {
            return;
        }

        var roles = input.Roles is { Count: > 0 } given ? given.Distinct(StringComparer.Ordinal).ToList() : [KeyRoles.App];
        var (secret, key) = await keys.CreateAsync(tenantId, input.Name, roles, input.RateLimits, caller.Actor, context.RequestAborted).ConfigureAwait(false);
        await audit.AppendAsync(caller.Actor, "key.create", tenantId, key.KeyId, [.. roles.Select(r => "role:" + r)], context.RequestAborted).ConfigureAwait(false);
        context.Response.Headers.Location = $"/api/tenants/{tenantId}/keys/{key.KeyId}";
        await ManagementHttp.WriteJsonAsync(context, StatusCodes.Status201Created, new KeyCreated(secret, KeyView.Of(key)), ManagementJsonContext.Default.KeyCreated).ConfigureAwait(false);
    }

    public async Task RevokeKeyAsync(HttpContext context, Caller caller, Guid tenantId, string keyId)
    {
        if (!await CanAsync(context, caller.CanManage(tenantId)).ConfigureAwait(false))
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

    /// <summary>Spend against the soft and hard limits in each current window, for the tenant and each agent with a budget.</summary>
    public async Task GetBudgetAsync(HttpContext context, Caller caller, Guid tenantId)
    {
        if (!await CanAsync(context, caller.CanRead(tenantId)).ConfigureAwait(false))
        {
            return;
        }

        var stored = await tenants.GetAsync(tenantId, context.RequestAborted).ConfigureAwait(false);
        if (stored is null)
        {
            await TenantNotFoundAsync(context, tenantId).ConfigureAwait(false);
            return;
        }

        var tenant = stored.Tenant;
        var now = timeProvider.GetUtcNow();
        var agents = tenant.AgentBudgets.Keys.Where(a => a != "*").ToList();
        if (context.Request.Query["agentId"].ToString() is { Length: > 0 } asked && !agents.Contains(asked))
        {
            agents.Add(asked);
        }

        var windows = new List<BudgetWindowView>();
        foreach (var agent in agents.Prepend(null))
        {
            var totals = await ledger.GetTotalsAsync(tenantId, agent, now, context.RequestAborted).ConfigureAwait(false);
            foreach (var window in BudgetWindow.AllContaining(now))
            {
                var total = totals.FirstOrDefault(t => t.Kind == window.Kind && t.WindowKey == window.Key);
                var limits = tenant.BudgetFor(agent, window.Kind);
                var spent = total?.CostUsd ?? 0m;
                windows.Add(new BudgetWindowView(WindowNames.Of(window.Kind), window.Key, window.Start, window.End, agent, spent, total?.Requests ?? 0, total?.Tokens ?? 0,
                    limits?.SoftUsd, limits?.HardUsd, limits?.HardUsd is { } hard ? Math.Max(0, hard - spent) : null, limits?.HardUsd is { } cap && spent >= cap));
            }
        }

        await ManagementHttp.WriteJsonAsync(context, 200, new BudgetView(tenantId, now, windows, tenant.Budgets, tenant.AgentBudgets), ManagementJsonContext.Default.BudgetView).ConfigureAwait(false);
    }

    /// <summary>Replaces the tenant's budgets (administrators) and agent budgets (administrators and tenant-admins). Applies from the next call.</summary>
    public async Task PutBudgetAsync(HttpContext context, Caller caller, Guid tenantId)
    {
        if (await ReadPermittedAsync(context, caller.CanManage(tenantId), ManagementJsonContext.Default.BudgetInput).ConfigureAwait(false) is not { } input)
        {
            return;
        }

        var errors = new ValidationErrors();
        TenantValidation.Budgets(input.Budgets, input.AgentBudgets, errors);
        if (!caller.IsAdmin && input.Budgets is not null)
        {
            errors.Add("budgets", "Only an administrator can change the tenant's own budgets; tenant-admins set agentBudgets.");
        }

        if (errors.Count > 0)
        {
            await ManagementHttp.ValidationFailedAsync(context, errors).ConfigureAwait(false);
            return;
        }

        var updated = await UpdateAsync(context, tenantId, t => t with
        {
            Budgets = input.Budgets is null ? t.Budgets : Tenant.NormalizeWindows(input.Budgets),
            AgentBudgets = input.AgentBudgets is null ? t.AgentBudgets : Tenant.NormalizeAgents(input.AgentBudgets),
            UpdatedAt = timeProvider.GetUtcNow(),
        }).ConfigureAwait(false);
        if (updated is null)
        {
            return;
        }

        List<string> changed = [.. input.Budgets is null ? Array.Empty<string>() : ["budgets"], .. input.AgentBudgets is null ? Array.Empty<string>() : ["agentBudgets"]];
        await audit.AppendAsync(caller.Actor, "budget.update", tenantId, null, changed, context.RequestAborted).ConfigureAwait(false);
        await GetBudgetAsync(context, caller, tenantId).ConfigureAwait(false);
    }

    public async Task ListAuditAsync(HttpContext context, Caller caller)
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
            if (!await CanAsync(context, caller.CanManage(tenantId!.Value)).ConfigureAwait(false))
            {
                return;
            }
        }

        if (!TryLimit(context, out var limit) || !TryToken(context, out var after)
            || !ReportsApi.TryDate(query, "since", out var since) || !ReportsApi.TryDate(query, "until", out var until))
        {
            await ManagementHttp.InvalidAsync(context, null, $"{ManagementPaging.Problem} since/until must be ISO 8601; continuationToken one this API issued.").ConfigureAwait(false);
            return;
        }

        var (items, next) = await audit.QueryAsync(tenantId, since, until, after, limit, context.RequestAborted).ConfigureAwait(false);
        await ManagementHttp.WriteJsonAsync(context, 200, new AuditPage(items, ContinuationToken.Encode(next)), ManagementJsonContext.Default.AuditPage).ConfigureAwait(false);
    }

    private async Task<TenantStore.Versioned?> UpdateAsync(HttpContext context, Guid tenantId, Func<Tenant, Tenant> change)
    {
        var ifMatch = context.Request.Headers.IfMatch.ToString();
        for (var attempt = 0; ; attempt++)
        {
            var stored = await tenants.GetAsync(tenantId, context.RequestAborted).ConfigureAwait(false);
            if (stored is null)
            {
                await TenantNotFoundAsync(context, tenantId).ConfigureAwait(false);
                return null;
            }

            if (ifMatch.Length > 0 && ifMatch != "*" && ifMatch != Quote(stored.ETag))
            {
                await Proxy.GatewayErrors.WriteAsync(context, Providers.ProviderKind.OpenAI, StatusCodes.Status412PreconditionFailed, "conflict_error", "precondition_failed",
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

    private async Task<bool> ExistsAsync(HttpContext context, Guid tenantId)
    {
        if (await tenants.GetAsync(tenantId, context.RequestAborted).ConfigureAwait(false) is not null)
        {
            return true;
        }

        await TenantNotFoundAsync(context, tenantId).ConfigureAwait(false);
        return false;
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
        ProviderKeys = input.ProviderKeys is null ? tenant.ProviderKeys : input.ProviderKeys.ToDictionary(kv => kv.Key.ToLowerInvariant(), kv => kv.Value, StringComparer.OrdinalIgnoreCase),
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

    /// <summary>The body of a write the caller may make; null when refused or unreadable (the answer has been written).</summary>
    private static async Task<T?> ReadPermittedAsync<T>(HttpContext context, bool allowed, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        where T : class
        => await CanAsync(context, allowed).ConfigureAwait(false) ? await ManagementHttp.ReadBodyAsync(context, type).ConfigureAwait(false) : null;

    private static async Task<bool> CanAsync(HttpContext context, bool allowed)
    {
        if (!allowed)
        {
            await ManagementAuthorizer.ForbiddenAsync(context, "This key may not do that for this tenant.").ConfigureAwait(false);
        }

        return allowed;
    }

    private static Task TenantNotFoundAsync(HttpContext context, Guid tenantId)
        => ManagementHttp.NotFoundAsync(context, "tenant_not_found", $"No tenant {tenantId}.");

    /// <summary>An HTTP entity tag for a store's version tag (whatever characters that has).</summary>
    private static string Quote(string etag) => "\"" + System.Buffers.Text.Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes(etag)) + "\"";

    private static bool TryLimit(HttpContext context, out int limit) => ManagementPaging.TryLimit(context.Request.Query, out limit);

    private static bool TryToken(HttpContext context, out string? after)
        => ContinuationToken.TryDecode(context.Request.Query["continuationToken"].ToString(), out after);
}
