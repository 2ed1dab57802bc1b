using System.Text.RegularExpressions;
using LlmTrace.Domain.Providers;
using LlmTrace.Domain.Tenancy;

namespace LlmTrace.Domain.Management;

/// <summary>Field-level checks of management input.</summary>
internal static partial class TenantValidation
{
    public const int MaxNameLength = 100;

    public static void Tenant(TenantInput input, bool create, ValidationErrors errors, bool allowPrivateWebhooks = false)
    {
        if (create && string.IsNullOrWhiteSpace(input.Name))
        {
            errors.Add("name", "Required.");
        }
        else if (input.Name is not null && (input.Name.Trim().Length == 0 || input.Name.Length > MaxNameLength))
        {
            errors.Add("name", $"Must be 1 to {MaxNameLength} characters.");
        }

        if (input.TenantId == Guid.Empty)
        {
            errors.Add("tenantId", "Must not be the empty UUID.");
        }

        if (input.RetentionDays is < 1 or > 3650)
        {
            errors.Add("retentionDays", "Must be from 1 to 3650.");
        }

        if (input.EnforcementPolicies is { } policies)
        {
            foreach (var type in policies.Keys.Where(t => t.Length is 0 or > 64 || !FindingType().IsMatch(t)))
            {
                errors.Add($"enforcementPolicies.{type}", "Finding types are lower-case words joined by '_', e.g. prompt_injection.");
            }
        }

        Budgets(input.Budgets, input.AgentBudgets, errors);
        RateLimits(input.RateLimits, "rateLimits", errors);
        if (input.TokenCaps is { } caps)
        {
            Positive(caps.MaxPromptTokens, "tokenCaps.maxPromptTokens", errors);
            Positive(caps.MaxOutputTokens, "tokenCaps.maxOutputTokens", errors);
        }

        if (input.AlertWebhooks is { } hooks)
        {
            if (hooks.Count > 5)
            {
                errors.Add("alertWebhooks", "At most 5 webhooks.");
            }

            for (var i = 0; i < hooks.Count; i++)
            {
                if (!Uri.TryCreate(hooks[i], UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http"))
                {
                    errors.Add($"alertWebhooks[{i}]", "Must be an absolute http(s) URL.");
                }
                else if (!allowPrivateWebhooks && (uri.Scheme != "https" || IsInternalHost(uri)))
                {
                    errors.Add($"alertWebhooks[{i}]", "Must be https to a public host (no loopback, private or link-local addresses).");
                }
            }
        }

        if (input.ProviderKeys is { } keys)
        {
            foreach (var (provider, setting) in keys)
            {
                if (!ProviderKindExtensions.TryParseWireName(provider, out var kind) || kind == ProviderKind.Unknown)
                {
                    errors.Add($"providerKeys.{provider}", "Unknown provider; use openai, azure-openai, anthropic, gemini or openai-compatible.");
                }
                else if (!SettingName().IsMatch(setting))
                {
                    errors.Add($"providerKeys.{provider}", "Must name a setting under LlmTrace:ProviderKeys: letters, digits, '-' and '_', at most 64.");
                }
            }
        }
    }

    public static void Budgets(
        Dictionary<string, WindowBudget>? budgets, Dictionary<string, Dictionary<string, WindowBudget>>? agentBudgets, ValidationErrors errors)
    {
        Windows(budgets, "budgets", errors);
        if (agentBudgets is null)
        {
            return;
        }

        foreach (var (agent, windows) in agentBudgets)
        {
            if (agent.Length is 0 or > TenantResolver.MaxAgentIdLength)
            {
                errors.Add($"agentBudgets.{agent}", $"Agent ids are 1 to {TenantResolver.MaxAgentIdLength} characters ('*' for every agent).");
            }

            Windows(windows, $"agentBudgets.{agent}", errors);
        }
    }

    public static void RateLimits(RateLimitSettings? limits, string field, ValidationErrors errors)
    {
        Positive(limits?.RequestsPerMinute, field + ".requestsPerMinute", errors);
        Positive(limits?.TokensPerMinute, field + ".tokensPerMinute", errors);
    }

    public static void Roles(List<string>? roles, ValidationErrors errors)
    {
        if (roles is null)
        {
            return;
        }

        if (roles.Count == 0)
        {
            errors.Add("roles", "Give at least one role, or leave roles out for an app key.");
        }

        for (var i = 0; i < roles.Count; i++)
        {
            if (!KeyRoles.All.Contains(roles[i], StringComparer.Ordinal))
            {
                errors.Add($"roles[{i}]", "Must be one of app, viewer, tenant-admin, admin.");
            }
        }
    }

    private static void Windows(Dictionary<string, WindowBudget>? windows, string field, ValidationErrors errors)
    {
        if (windows is null)
        {
            return;
        }

        foreach (var (name, budget) in windows)
        {
            var path = $"{field}.{name}";
            if (!WindowNames.All.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                errors.Add(path, "Windows are hourly, daily, weekly and monthly.");
                continue;
            }

            if (budget is null)
            {
                errors.Add(path, "Must be an object with softUsd and/or hardUsd.");
                continue;
            }

            if (budget.SoftUsd is <= 0)
            {
                errors.Add(path + ".softUsd", "Must be positive.");
            }

            if (budget.HardUsd is <= 0)
            {
                errors.Add(path + ".hardUsd", "Must be positive.");
            }

            if (budget.SoftUsd is { } soft && budget.HardUsd is { } hard && soft > hard)
            {
                errors.Add(path + ".softUsd", "Must not exceed hardUsd (the soft limit warns before the hard one stops calls).");
            }
        }
    }

    /// <summary>A host that names this machine or a private network: tenant webhooks must not reach inside.</summary>
    private static bool IsInternalHost(Uri uri)
    {
        if (uri.IsLoopback
            || uri.Host.EndsWith(".local", StringComparison.OrdinalIgnoreCase)
            || uri.Host.EndsWith(".internal", StringComparison.OrdinalIgnoreCase)
            || !uri.Host.Contains('.', StringComparison.Ordinal))
        {
            return true;
        }

        return System.Net.IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && Alerts.WebhookTargets.IsInternal(address);
    }

    private static void Positive(int? value, string field, ValidationErrors errors)
    {
        if (value is <= 0)
        {
            errors.Add(field, "Must be a positive whole number.");
        }
    }

    [GeneratedRegex("^[a-z][a-z0-9_]*$")]
    private static partial Regex FindingType();

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex SettingName();
}
