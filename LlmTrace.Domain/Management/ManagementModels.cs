using System.Text.Json;
using System.Text.Json.Serialization;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Security;
using LlmTrace.Domain.Tenancy;

namespace LlmTrace.Domain.Management;

/// <summary>The body of <c>POST /api/tenants</c> and <c>PATCH /api/tenants/{id}</c>: absent fields are left as they are.</summary>
internal sealed record TenantInput
{
    /// <summary>Optional on create (e.g. to register the UUIDv5 tenant of an existing key); a new UUID otherwise.</summary>
    public Guid? TenantId { get; init; }

    public string? Name { get; init; }

    public MonitoringScope? MonitoringScope { get; init; }

    public PiiHandling? PiiHandling { get; init; }

    public Dictionary<string, PolicyAction>? EnforcementPolicies { get; init; }

    public int? RetentionDays { get; init; }

    public Dictionary<string, WindowBudget>? Budgets { get; init; }

    public Dictionary<string, Dictionary<string, WindowBudget>>? AgentBudgets { get; init; }

    public RateLimitSettings? RateLimits { get; init; }

    public TokenCaps? TokenCaps { get; init; }

    public List<string>? AlertWebhooks { get; init; }

    public Dictionary<string, string>? ProviderKeys { get; init; }
}

/// <summary>The body of <c>PUT /api/tenants/{id}/budget</c>: the tenant's budgets, replaced as a whole.</summary>
internal sealed record BudgetInput
{
    public Dictionary<string, WindowBudget>? Budgets { get; init; }

    public Dictionary<string, Dictionary<string, WindowBudget>>? AgentBudgets { get; init; }
}

/// <summary>The body of <c>POST /api/tenants/{id}/keys</c>.</summary>
internal sealed record KeyInput
{
    public string? Name { get; init; }

    /// <summary>app (default), viewer, tenant-admin, admin.</summary>
    public List<string>? Roles { get; init; }

    public RateLimitSettings? RateLimits { get; init; }
}

/// <summary>A key as listed: never its secret or hash.</summary>
internal sealed record KeyView(string KeyId, Guid TenantId, string? Name, string Prefix, string LastFour, IReadOnlyList<string> Roles,
    DateTimeOffset CreatedAt, string? CreatedBy, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt, RateLimitSettings? RateLimits)
{
    public static KeyView Of(GatewayKey key)
        => new(
            key.KeyId,
            key.TenantId,
            key.Name,
            key.Prefix,
            key.LastFour,
            key.Roles,
            key.CreatedAt,
            key.CreatedBy,
            key.LastUsedAt,
            key.RevokedAt,
            key.RateLimits);
}

/// <summary>A new key: <see cref="Secret"/> is shown this once and never stored.</summary>
internal sealed record KeyCreated(string Secret, KeyView Key);

internal sealed record TenantPage(IReadOnlyList<Tenant> Items, string? ContinuationToken);

internal sealed record KeyList(IReadOnlyList<KeyView> Items);

internal sealed record AuditPage(IReadOnlyList<AuditEntry> Items, string? ContinuationToken);

/// <summary>Spend against limits in one window, for the tenant or one agent.</summary>
internal sealed record BudgetWindowView(string Window, string WindowKey, DateTimeOffset Start, DateTimeOffset End, string? AgentId,
    decimal SpentUsd, long Requests, long Tokens, decimal? SoftUsd, decimal? HardUsd, decimal? RemainingUsd, bool HardCapReached);

internal sealed record BudgetView(Guid TenantId, DateTimeOffset At, IReadOnlyList<BudgetWindowView> Windows,
    Dictionary<string, WindowBudget> Budgets, Dictionary<string, Dictionary<string, WindowBudget>> AgentBudgets);

internal sealed record ReconciliationRow(string Provider, string Model, string? PricedAs, long Calls, long PromptTokens, long CachedPromptTokens,
    long CacheWriteTokens, long CompletionTokens, decimal CostUsd, long EstimatedCalls, long InvalidUsageCalls, long UnpricedCalls);

internal sealed record ReconciliationReport(Guid? TenantId, DateTimeOffset From, DateTimeOffset To, decimal TotalUsd, long Calls,
    IReadOnlyList<ReconciliationRow> Rows, bool Truncated);

internal sealed record SpendGroup(string Key, decimal CostUsd, long Requests, long PromptTokens, long CompletionTokens, long UnpricedRequests);

internal sealed record SpendReport(Guid? TenantId, string? AgentId, DateTimeOffset From, DateTimeOffset To, string GroupBy, decimal TotalUsd, long Requests,
    IReadOnlyList<SpendGroup> Groups, bool Truncated);

/// <summary>One finding with the call it belongs to.</summary>
internal sealed record FindingView(Guid TraceId, Guid TenantId, DateTimeOffset At, string? Model, Finding Finding);

internal sealed record FindingPage(IReadOnlyList<FindingView> Items, string? ContinuationToken);

internal sealed record CountRow(string Key, long Count);

internal sealed record ComplianceReport(
    Guid? TenantId,
    DateTimeOffset From,
    DateTimeOffset To,
    DateTimeOffset GeneratedAt,
    long Requests,
    long FailedRequests,
    long BlockedCalls,
    long RateLimitedCalls,
    long CostCappedCalls,
    long FlaggedCalls,
    IReadOnlyList<CountRow> FindingsByType,
    IReadOnlyList<CountRow> FindingsBySeverity,
    long PiiExposures,
    IReadOnlyList<CountRow> PiiExposuresByLocation,
    long SecretsRedacted,
    decimal SpendUsd,
    IReadOnlyList<CountRow> ManagementActions,
    bool Truncated);

[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(TenantInput))]
[JsonSerializable(typeof(BudgetInput))]
[JsonSerializable(typeof(KeyInput))]
[JsonSerializable(typeof(KeyCreated))]
[JsonSerializable(typeof(KeyList))]
[JsonSerializable(typeof(Tenant))]
[JsonSerializable(typeof(TenantPage))]
[JsonSerializable(typeof(AuditPage))]
[JsonSerializable(typeof(BudgetView))]
[JsonSerializable(typeof(SpendReport))]
[JsonSerializable(typeof(FindingPage))]
[JsonSerializable(typeof(ComplianceReport))]
[JsonSerializable(typeof(PoisonPage))]
[JsonSerializable(typeof(ReconciliationReport))]
[JsonSerializable(typeof(CallerInfo))]
internal sealed partial class ManagementJsonContext : JsonSerializerContext;

/// <summary>Who the management API takes the caller for (<c>GET /api/me</c>): what the dashboard shows and offers.</summary>
internal sealed record CallerInfo(bool Admin, Guid? TenantId, IReadOnlyList<string> Roles, string? KeyId);
