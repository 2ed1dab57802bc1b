namespace LlmTrace.Domain.Management;

/// <summary>Access to the management API (<c>/api/**</c>). Bound from <c>LlmTrace</c> (env: <c>LlmTrace__AdminKey</c>).</summary>
public sealed class ManagementOptions
{
    public const string SectionName = "LlmTrace";

    /// <summary>When set, management calls need <c>Authorization: Bearer {AdminKey}</c>.</summary>
    public string? AdminKey { get; set; }

    /// <summary>With no admin key: serve loopback clients (SelfHost) or nobody (Functions). Set by the host.</summary>
    public bool AllowLoopbackWithoutKey { get; set; }
}
