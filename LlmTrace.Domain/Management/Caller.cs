using LlmTrace.Domain.Tenancy;

namespace LlmTrace.Domain.Management;

/// <summary>Who is calling the management API: the administrator, or a gateway key of one tenant with its roles.</summary>
public sealed record Caller(bool IsAdmin, Guid? TenantId, IReadOnlyList<string> Roles, string? KeyId)
{
    public static Caller Administrator { get; } = new(true, null, [KeyRoles.Admin], null);

    /// <summary>How the audit log names this caller.</summary>
    public string Actor => KeyId is null ? "admin" : "key:" + KeyId;

    /// <summary>May read the tenant's traces, spend, budget and findings.</summary>
    public bool CanRead(Guid tenantId) => IsAdmin || (TenantId == tenantId && (Has(KeyRoles.TenantAdmin) || Has(KeyRoles.Viewer)));

    /// <summary>May change the tenant's settings, keys and budget, and read its audit log.</summary>
    public bool CanManage(Guid tenantId) => IsAdmin || (TenantId == tenantId && Has(KeyRoles.TenantAdmin));

    /// <summary>May use the management API at all (an application key may only proxy).</summary>
    public bool HasManagementRole => IsAdmin || Has(KeyRoles.TenantAdmin) || Has(KeyRoles.Viewer);

    private bool Has(string role) => Roles.Contains(role, StringComparer.Ordinal);
}
