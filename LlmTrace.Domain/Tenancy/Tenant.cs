using System.Text.Json.Serialization;
using LlmTrace.Domain.Budgets;
using LlmTrace.Domain.Security;

namespace LlmTrace.Domain.Tenancy;

/// <summary>Which side of a call the security analysis looks at for a tenant.</summary>
[JsonConverter(typeof(WireEnumConverter<MonitoringScope>))]
public enum MonitoringScope
{
    [JsonStringEnumMemberName("hybrid")]
    Hybrid,
    [JsonStringEnumMemberName("input_only")]
    InputOnly,
    [JsonStringEnumMemberName("output_only")]
    OutputOnly,
}

/// <summary>A team or application that calls LLMs through the gateway, with its own limits and policies.</summary>
public sealed record Tenant
{
    public required Guid TenantId { get; init; }

    public required string Name { get; init; }

    public MonitoringScope MonitoringScope { get; init; } = MonitoringScope.Hybrid;

    /// <summary>Overrides <c>LlmTrace:Security:PiiHandling</c> for this tenant's stored traces; null keeps the global setting.</summary>
    public PiiHandling? PiiHandling { get; init; }

    /// <summary>Per finding type, replacing the global enforcement policy for that type.</summary>
    public Dictionary<string, PolicyAction> EnforcementPolicies { get; init; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>How long this tenant's traces are kept (where the store supports expiry); null keeps the global setting.</summary>
    public int? RetentionDays { get; init; }

    /// <summary>Tenant budgets by window: <c>hourly</c>, <c>daily</c>, <c>weekly</c>, <c>monthly</c>.</summary>
    public Dictionary<string, WindowBudget> Budgets { get; init; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Budgets per agent id (<c>*</c> applies to every agent without its own entry), by window.</summary>
    public Dictionary<string, Dictionary<string, WindowBudget>> AgentBudgets { get; init; } = new(StringComparer.Ordinal);

    public RateLimitSettings? RateLimits { get; init; }

    public TokenCaps? TokenCaps { get; init; }

    /// <summary>Extra alert webhooks for this tenant's alerts (the global webhook still receives them).</summary>
    public List<Uri> AlertWebhooks { get; init; } = [];

    /// <summary>
    /// In <c>gateway-keys</c> mode: provider (openai, azure-openai, anthropic, gemini, openai-compatible) → the name of the
    /// credential setting under <c>LlmTrace:ProviderKeys</c>. Unset providers use <c>OpenAI</c>, <c>AzureOpenAI</c>,
    /// <c>Anthropic</c>, <c>Gemini</c> or <c>OpenAICompatible</c> (which falls back to <c>OpenAI</c>).
    /// </summary>
    public Dictionary<string, string> ProviderKeys { get; init; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>True for a tenant created by its first call in pass-through mode.</summary>
    public bool AutoCreated { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The hard or soft limit of the tenant (agent null) or of an agent, in one window.</summary>
    public WindowBudget? BudgetFor(string? agentId, WindowKind kind)
    {
        var name = WindowNames.Of(kind);
        if (agentId is null)
        {
            return Find(Budgets, name);
        }

        var agent = AgentBudgets.GetValueOrDefault(agentId) ?? AgentBudgets.GetValueOrDefault("*");
        return agent is null ? null : Find(agent, name);
    }

    /// <summary>The credential setting this tenant names for a provider (matched regardless of case), or null.</summary>
    public string? ProviderKeyFor(string provider)
        => ProviderKeys.FirstOrDefault(kv => string.Equals(kv.Key, provider, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>Window names in lower case (as stored), so lookups do not depend on how they were typed.</summary>
    public static Dictionary<string, WindowBudget> NormalizeWindows(Dictionary<string, WindowBudget> windows)
        => windows.ToDictionary(kv => kv.Key.ToLowerInvariant(), kv => kv.Value, StringComparer.OrdinalIgnoreCase);

    public static Dictionary<string, Dictionary<string, WindowBudget>> NormalizeAgents(Dictionary<string, Dictionary<string, WindowBudget>> agents)
        => agents.ToDictionary(kv => kv.Key, kv => NormalizeWindows(kv.Value), StringComparer.Ordinal);

    // A stored tenant is read back with default (case-sensitive) dictionaries: match window names regardless of case.
    private static WindowBudget? Find(Dictionary<string, WindowBudget> windows, string name)
        => windows.TryGetValue(name, out var exact)
            ? exact
            : windows.FirstOrDefault(kv => string.Equals(kv.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>Settings of a tenant nobody configured: no limits, global policies.</summary>
    public static Tenant Unconfigured(Guid tenantId) => new() { TenantId = tenantId, Name = "unconfigured" };
}

/// <summary>A budget in one window, in US dollars: the soft limit alerts, the hard limit refuses calls.</summary>
public sealed record WindowBudget
{
    public decimal? SoftUsd { get; init; }

    public decimal? HardUsd { get; init; }
}

/// <summary>Requests and tokens per minute (tokens: prompt estimate plus the output cap, reconciled with real usage).</summary>
public sealed record RateLimitSettings
{
    public int? RequestsPerMinute { get; init; }

    public int? TokensPerMinute { get; init; }
}

/// <summary>Per-request caps, checked before the call is forwarded.</summary>
public sealed record TokenCaps
{
    public int? MaxPromptTokens { get; init; }

    public int? MaxOutputTokens { get; init; }
}

/// <summary>The wire names of budget windows.</summary>
internal static class WindowNames
{
    public static IReadOnlyList<string> All { get; } = ["hourly", "daily", "weekly", "monthly"];

    public static string Of(WindowKind kind) => kind switch
    {
        WindowKind.Hour => "hourly",
        WindowKind.Day => "daily",
        WindowKind.Week => "weekly",
        _ => "monthly",
    };
}
