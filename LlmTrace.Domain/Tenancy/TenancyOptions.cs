using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Tenancy;

/// <summary>How proxied calls are authenticated. Bound from <c>LlmTrace:Auth</c> (env: <c>LlmTrace__Auth__Mode</c>).</summary>
public sealed class AuthOptions
{
    public const string SectionName = "LlmTrace:Auth";
    public const string Passthrough = "passthrough";
    public const string GatewayKeys = "gateway-keys";

    /// <summary>
    /// <c>passthrough</c>: the client's provider key is forwarded, the tenant comes from its header or the key.
    /// <c>gateway-keys</c>: every call presents an <c>ltk_</c> key and the gateway sends the tenant's provider credential.
    /// </summary>
    public string Mode { get; set; } = Passthrough;

    public bool RequiresGatewayKey => string.Equals(Mode, GatewayKeys, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Refusals recorded before the caller is known (unknown route, missing or bad key, no upstream) per client address and
    /// minute; past it the client gets 429 and no trace. 0 turns the limit off.
    /// </summary>
    public int RefusalsPerMinute { get; set; } = 60;
}

/// <summary>Tenant settings and key lookups are cached this long per process. Bound from <c>LlmTrace:Tenancy</c>.</summary>
public sealed class TenancyOptions
{
    public const string SectionName = "LlmTrace:Tenancy";

    /// <summary>
    /// How long a process reuses a tenant's settings or a key's record. Changes made through this process's API apply at
    /// once; other processes (other function instances) see them within this interval, revocations included.
    /// </summary>
    public int CacheSeconds { get; set; } = 5;

    /// <summary>In pass-through mode, store a tenant record the first time a tenant is seen.</summary>
    public bool AutoCreateTenants { get; set; } = true;
}

internal sealed class AuthOptionsValidator : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions options)
        => options.Mode.ToLowerInvariant() is not (AuthOptions.Passthrough or AuthOptions.GatewayKeys)
            ? ValidateOptionsResult.Fail($"LlmTrace:Auth:Mode must be '{AuthOptions.Passthrough}' or '{AuthOptions.GatewayKeys}', not '{options.Mode}'.")
            : options.RefusalsPerMinute < 0
                ? ValidateOptionsResult.Fail("LlmTrace:Auth:RefusalsPerMinute must be 0 (off) or more.")
                : ValidateOptionsResult.Success;
}

internal sealed class TenancyOptionsValidator : IValidateOptions<TenancyOptions>
{
    public ValidateOptionsResult Validate(string? name, TenancyOptions options)
        => options.CacheSeconds is >= 0 and <= 300
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail("LlmTrace:Tenancy:CacheSeconds must be from 0 to 300.");
}
