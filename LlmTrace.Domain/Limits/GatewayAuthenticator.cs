using System.Globalization;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Providers;
using LlmTrace.Domain.Tenancy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Limits;

/// <summary>
/// Who is calling a proxied route: the gateway key (wherever the SDK put it) or the tenant pass-through names, the
/// tenant's settings, and the provider credential the gateway sends instead of the client's. Refusals before the caller
/// is known are limited per client address, so a flood of bad keys cannot fill the trace store.
/// </summary>
public sealed class GatewayAuthenticator(
    TenantStore tenants,
    GatewayKeyStore keys,
    IConfiguration configuration,
    IOptionsMonitor<AuthOptions> auth,
    IOptionsMonitor<TenancyOptions> tenancy,
    UnauthenticatedRefusals refusals,
    ILogger<GatewayAuthenticator> logger)
{
    public const string KeyHeader = "x-llmtrace-key";
    public const string ProviderKeysSection = "LlmTrace:ProviderKeys";
    // The client's credential headers, and the OpenAI headers that would pick another organisation or project of the
    // gateway's key: in gateway-keys mode the gateway decides all of these.
    private static readonly string[] CredentialHeaders = ["Authorization", "api-key", "x-api-key", "x-goog-api-key", "OpenAI-Organization", "OpenAI-Project"];

    /// <summary>Who is calling; null when refused (the 401/403/503 has been written).</summary>
    /// <param name="signsInItself">Every backend of the route signs in with the gateway's identity: no provider key is needed.</param>
    internal async ValueTask<CallIdentity?> AuthenticateAsync(HttpContext context, CompletedExchange exchange, bool signsInItself = false)
    {
        var request = context.Request;
        var gatewayKeysMode = auth.CurrentValue.RequiresGatewayKey;
        // A gateway key is looked for where SDKs put their API key in both modes, so one is never forwarded upstream:
        // in pass-through mode, a gateway key in a provider header also makes the gateway send the provider credential.
        var presented = FindGatewayKey(request, out var inProviderHeader);
        var substituteCredential = gatewayKeysMode || inProviderHeader;
        GatewayKey? key = null;
        if (presented is not null)
        {
            key = await keys.AuthenticateAsync(presented, context.RequestAborted).ConfigureAwait(false);
            if (key is null)
            {
                // A refused call is recorded under the default tenant (the exchange's tenant until authentication), never
                // under a tenant the client names.
                logger.KeyRejected(exchange.TraceId, GatewayKeyFormat.TryParse(presented, out var id, out _) ? id : "(malformed)");
                await RefuseUnauthenticatedAsync(context, exchange, StatusCodes.Status401Unauthorized, "authentication_error", "invalid_api_key",
                    "The LlmTrace gateway key is unknown, malformed or revoked.").ConfigureAwait(false);
                return null;
            }

            if (!key.CanProxy)
            {
                // The key is genuine: its refusal belongs to the key's own tenant, whatever tenant header came with it.
                exchange.TenantId = key.TenantId;
                exchange.AgentId = exchange.RequestedAgentId;
                await AdmissionRefusals.WriteAsync(context, exchange, StatusCodes.Status403Forbidden, "permission_error", "key_cannot_proxy",
                    "This gateway key is a viewer key; it can read traces but not make calls.").ConfigureAwait(false);
                return null;
            }

            _ = TouchQuietlyAsync(key);
        }
        else if (gatewayKeysMode)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await RefuseUnauthenticatedAsync(context, exchange, StatusCodes.Status401Unauthorized, "authentication_error", "missing_api_key",
                "This gateway needs an LlmTrace gateway key (ltk_…) in Authorization: Bearer, or in x-llmtrace-key.").ConfigureAwait(false);
            return null;
        }

        // Pass-through mode trusts the tenant the client names (that is what pass-through means); a key decides otherwise.
        var tenantId = key?.TenantId ?? exchange.RequestedTenantId;
        Tenant? tenant;
        if (key is null && tenancy.CurrentValue.AutoCreateTenants)
        {
            tenant = await tenants.GetOrCreateAsync(tenantId, context.RequestAborted).ConfigureAwait(false);
        }
        else
        {
            tenant = await tenants.GetCachedAsync(tenantId, context.RequestAborted).ConfigureAwait(false);
            if (tenant is null && key is not null)
            {
                await RefuseUnauthenticatedAsync(context, exchange, StatusCodes.Status401Unauthorized, "authentication_error", "invalid_api_key",
                    "The gateway key's tenant no longer exists.").ConfigureAwait(false);
                return null;
            }
        }

        tenant ??= Tenant.Unconfigured(tenantId);
        // From here on the call is the tenant's: its trace, refusals included, is recorded under it.
        exchange.TenantId = tenant.TenantId;
        exchange.AgentId = exchange.RequestedAgentId;
        UpstreamCredential? credential = null;
        // A route whose every backend signs in with the gateway's identity needs no provider key.
        if (substituteCredential && !signsInItself)
        {
            var provider = exchange.Provider.ToWireName();
            // No fallback between providers: an OpenAI key must never reach another host because a setting is missing.
            var name = tenant.ProviderKeyFor(provider) ?? exchange.Provider.KeySettingName();
            var value = configuration[$"{ProviderKeysSection}:{name}"];

            if (KeyVaultReferences.IsUnresolved(value))
            {
                // App Service leaves a reference it could not resolve (missing secret, no access) as its literal text.
                logger.UnresolvedKeyVaultReference(exchange.TraceId, name);
                value = null;
            }

            if (string.IsNullOrEmpty(value))
            {
                await AdmissionRefusals.WriteAsync(context, exchange, StatusCodes.Status503ServiceUnavailable, "upstream_not_configured", "provider_key_not_configured",
                    $"No provider credential is configured for {provider}: set {ProviderKeysSection.Replace(":", "__", StringComparison.Ordinal)}__{name}.").ConfigureAwait(false);
                return null;
            }

            var (header, headerValue) = exchange.Provider.Credential(value);
            credential = new UpstreamCredential(header, headerValue);
        }

        return new CallIdentity(tenant, key, credential);
    }

    /// <summary>The headers that carry a credential upstream (all replaced when the gateway signs in itself).</summary>
    internal static IReadOnlyList<string> CredentialHeaderNames => CredentialHeaders;

    /// <summary>Removes every client credential and adds the gateway's, in the header the provider expects.</summary>
    internal static void ApplyCredential(UpstreamCredential credential, HttpRequestMessage request)
    {
        foreach (var name in CredentialHeaders)
        {
            request.Headers.Remove(name);
        }

        request.Headers.TryAddWithoutValidation(credential.HeaderName, credential.Value);
    }

    /// <summary>The query string without a <c>key</c> parameter (Gemini clients may put their key there).</summary>
    internal static string? StripQueryKey(string? query)
    {
        if (string.IsNullOrEmpty(query) || !query.Contains('=', StringComparison.Ordinal))
        {
            return query;
        }

        // Compare decoded names: ASP.NET reads "%6Bey" as "key", so the upstream would too.
        var kept = query.TrimStart('?').Split('&').Where(p => !IsKeyParameter(p));
        var joined = string.Join('&', kept);
        return joined.Length == 0 ? string.Empty : "?" + joined;

        static bool IsKeyParameter(string pair)
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? pair : pair[..equals];
            try
            {
                return string.Equals(Uri.UnescapeDataString(name.Replace('+', ' ')).Trim(), "key", StringComparison.OrdinalIgnoreCase);
            }
            catch (UriFormatException)
            {
                return true; // Undecodable: drop it rather than risk forwarding a credential.
            }
        }
    }

    private static string? FindGatewayKey(HttpRequest request, out bool inProviderHeader)
    {
        inProviderHeader = false;
        var explicitKey = request.Headers[KeyHeader].ToString().Trim();
        if (explicitKey.Length > 0)
        {
            return explicitKey;
        }

        // SDKs put their api_key where their provider expects it: accept a gateway key in any of those places.
        var candidate = TenantResolver.FindApiKey(request.Headers, request.Query);
        inProviderHeader = candidate is not null && GatewayKeyFormat.LooksLikeKey(candidate);
        return inProviderHeader ? candidate : null;
    }

    private async Task TouchQuietlyAsync(GatewayKey key)
    {
        try
        {
            await keys.TouchAsync(key, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            logger.KeyTouchFailed(key.KeyId, ex);
        }
    }

    /// <summary>
    /// A refusal written before the caller is known, recorded under the default tenant. Past the client's limit of such
    /// refusals it becomes a 429 with no trace, so unauthenticated traffic cannot flood the store.
    /// </summary>
    internal async Task RefuseUnauthenticatedAsync(HttpContext context, CompletedExchange exchange, int status, string type, string code, string message)
    {
        if (!refusals.TryAcquire(context, out var retryAfter))
        {
            exchange.SkipTrace = true;
            context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
            await AdmissionRefusals.WriteAsync(context, exchange, StatusCodes.Status429TooManyRequests, "rate_limit_exceeded", "too_many_refusals",
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"Too many refused calls from this address (last: {code}). Try again in {retryAfter}s.")).ConfigureAwait(false);
            return;
        }

        await AdmissionRefusals.WriteAsync(context, exchange, status, type, code, message).ConfigureAwait(false);
    }
}
