namespace LlmTrace.Domain.Tenancy;

/// <summary>One management write: who did what to which tenant, and when.</summary>
public sealed record AuditEntry
{
    public required Guid AuditId { get; init; }

    public required DateTimeOffset At { get; init; }

    /// <summary><c>admin</c> (the admin key or a loopback call), or <c>key:{keyId}</c>.</summary>
    public required string Actor { get; init; }

    /// <summary>e.g. <c>tenant.create</c>, <c>tenant.update</c>, <c>tenant.delete</c>, <c>key.create</c>, <c>key.revoke</c>, <c>budget.update</c>.</summary>
    public required string Action { get; init; }

    public Guid? TenantId { get; init; }

    /// <summary>What was acted on, e.g. a key id.</summary>
    public string? Target { get; init; }

    /// <summary>Which fields changed. Never a secret.</summary>
    public IReadOnlyList<string> Changes { get; init; } = [];
}
