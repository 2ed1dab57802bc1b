using LlmTrace.Domain.Budgets;
using LlmTrace.Domain.Tenancy;
using Microsoft.AspNetCore.Http;

namespace LlmTrace.Domain.Management;

/// <summary>
/// A tenant's budgets and its spend against them (<c>/api/tenants/{id}/budget</c>). Administrators set the tenant's own
/// budgets; its admins set agent budgets; viewers read.
/// </summary>
public sealed class BudgetsApi(TenantResource resource, AuditLog audit, ISpendLedger ledger, TimeProvider timeProvider)
{
    /// <summary>Spend against the soft and hard limits in each current window, for the tenant and each agent with a budget.</summary>
    public async Task GetAsync(HttpContext context, Caller caller, Guid tenantId)
    {
        if (await resource.ReadAsync(context, caller, tenantId).ConfigureAwait(false) is not { } stored)
        {
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
                var remaining = limits?.HardUsd is { } hard ? Math.Max(0, hard - spent) : (decimal?)null;
                var capped = limits?.HardUsd is { } cap && spent >= cap;
                windows.Add(new BudgetWindowView(
                    WindowNames.Of(window.Kind),
                    window.Key,
                    window.Start,
                    window.End,
                    agent,
                    spent,
                    total?.Requests ?? 0,
                    total?.Tokens ?? 0,
                    limits?.SoftUsd,
                    limits?.HardUsd,
                    remaining,
                    capped));
            }
        }

        await ManagementHttp.WriteJsonAsync(
            context,
            200,
            new BudgetView(tenantId, now, windows, tenant.Budgets, tenant.AgentBudgets),
            ManagementJsonContext.Default.BudgetView).ConfigureAwait(false);
    }

    /// <summary>Replaces the tenant's budgets (administrators) and agent budgets (administrators and tenant-admins). Applies from the next call.</summary>
    public async Task PutAsync(HttpContext context, Caller caller, Guid tenantId)
    {
        if (await TenantResource.ReadPermittedAsync(
            context, caller.CanManage(tenantId), ManagementJsonContext.Default.BudgetInput).ConfigureAwait(false) is not { } input)
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

        var updated = await resource.UpdateAsync(context, tenantId, t => t with
        {
            Budgets = input.Budgets is null ? t.Budgets : Tenant.NormalizeWindows(input.Budgets),
            AgentBudgets = input.AgentBudgets is null ? t.AgentBudgets : Tenant.NormalizeAgents(input.AgentBudgets),
            UpdatedAt = timeProvider.GetUtcNow(),
        }).ConfigureAwait(false);
        if (updated is null)
        {
            return;
        }

        List<string> changed = [
            .. input.Budgets is null ? Array.Empty<string>() : ["budgets"], .. input.AgentBudgets is null ? Array.Empty<string>() : ["agentBudgets"]];
        await audit.AppendAsync(caller.Actor, "budget.update", tenantId, null, changed, context.RequestAborted).ConfigureAwait(false);
        await GetAsync(context, caller, tenantId).ConfigureAwait(false);
    }
}
