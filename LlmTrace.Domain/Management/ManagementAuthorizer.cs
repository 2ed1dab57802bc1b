using System.Net;
using System.Security.Cryptography;
using System.Text;
using LlmTrace.Domain.Providers;
using LlmTrace.Domain.Proxy;
using LlmTrace.Domain.Tenancy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Management;

/// <summary>
/// Guards the management API: the admin key (compared in constant time), a gateway key with a management role, or —
/// when no admin key is set and the host allows it — loopback callers as administrator.
/// </summary>
public sealed partial class ManagementAuthorizer(IOptionsMonitor<ManagementOptions> options, GatewayKeyStore keys, ILogger<ManagementAuthorizer> logger)
{
    private int _unresolvedLogged;

    /// <summary>The caller, or null when refused (the 401/403 answer has been written).</summary>
    public async Task<Caller?> AuthenticateAsync(HttpContext context)
    {
        var settings = options.CurrentValue;
        var header = context.Request.Headers.Authorization.ToString();
        var presented = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            ? header[7..].Trim()
            : context.Request.Headers[Limits.GatewayAuthenticator.KeyHeader].ToString().Trim();
        if (GatewayKeyFormat.LooksLikeKey(presented))
        {
            var key = await keys.AuthenticateAsync(presented, context.RequestAborted).ConfigureAwait(false);
            if (key is null)
            {
                await UnauthorizedAsync(context, "The gateway key is unknown, malformed or revoked.").ConfigureAwait(false);
                return null;
            }

            var caller = new Caller(key.Has(KeyRoles.Admin), key.TenantId, key.Roles, key.KeyId);
            if (!caller.HasManagementRole)
            {
                await ForbiddenAsync(
                    context, "This key may only make proxied calls; management needs a viewer, tenant-admin or admin key.").ConfigureAwait(false);
                return null;
            }

            return caller;
        }

        var adminKey = KeyVaultReferences.Resolved(settings.AdminKey);
        if (adminKey is null && KeyVaultReferences.IsUnresolved(settings.AdminKey) && Interlocked.Exchange(ref _unresolvedLogged, 1) == 0)
        {
            // The literal reference text would be a guessable admin key: refuse admin access until it resolves (logged once).
            AdminKeyUnresolved(logger);
        }

        if (adminKey is null)
        {
            if (settings.AllowLoopbackWithoutKey && IsLoopback(context) && IsLocalHost(context) && !IsProxied(context))
            {
                if (IsCrossOrigin(context))
                {
                    // A page from another origin open in the developer's browser must not act as the local administrator.
                    await GatewayErrors.WriteAsync(context, ProviderKind.OpenAI, StatusCodes.Status403Forbidden, "permission_error", "cross_origin_refused",
                        "Loopback management without a key is refused to pages from another origin; set LlmTrace__AdminKey and send it.").ConfigureAwait(false);
                    return null;
                }

                return Caller.Administrator;
            }

            await GatewayErrors.WriteAsync(context, ProviderKind.OpenAI, StatusCodes.Status403Forbidden, "permission_error", "admin_key_not_configured",
                "The management API needs LlmTrace__AdminKey, or a gateway key with a management role, for non-loopback clients.").ConfigureAwait(false);
            return null;
        }

        if (presented.Length > 0 && KeysMatch(presented, adminKey))
        {
            return Caller.Administrator;
        }

        await UnauthorizedAsync(context, "Management calls need Authorization: Bearer <admin key or gateway key>.").ConfigureAwait(false);
        return null;
    }

    /// <summary>True when the caller may proceed; otherwise the 401/403 answer has been written.</summary>
    public async Task<bool> AuthorizeAsync(HttpContext context) => await AuthenticateAsync(context).ConfigureAwait(false) is not null;

    public static Task ForbiddenAsync(HttpContext context, string message)
        => GatewayErrors.WriteAsync(context, ProviderKind.OpenAI, StatusCodes.Status403Forbidden, "permission_error", "forbidden", message);

    private static Task UnauthorizedAsync(HttpContext context, string message)
    {
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return GatewayErrors.WriteAsync(context, ProviderKind.OpenAI, StatusCodes.Status401Unauthorized, "authentication_error", "invalid_admin_key", message);
    }

    private static bool KeysMatch(ReadOnlySpan<char> presented, string expected)
    {
        // Hash both sides so the comparison takes the same time whatever the lengths.
        Span<byte> a = stackalloc byte[32];
        Span<byte> b = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented.ToArray()), a);
        SHA256.HashData(Encoding.UTF8.GetBytes(expected), b);
        return CryptographicOperations.FixedTimeEquals(a, b);
    }

    /// <summary>
    /// The request came through a reverse proxy (it carries forwarding headers): a proxy on this machine would make every
    /// remote client look local, so such a request never counts as the loopback administrator.
    /// </summary>
    private static bool IsProxied(HttpContext context)
        => context.Request.Headers.ContainsKey("X-Forwarded-For") || context.Request.Headers.ContainsKey("X-Forwarded-Host")
            || context.Request.Headers.ContainsKey("X-Forwarded-Proto") || context.Request.Headers.ContainsKey("Forwarded")
            || context.Request.Headers.ContainsKey("X-Real-IP") || context.Request.Headers.ContainsKey("X-Original-URL");

    /// <summary>The Host header names this machine, so a page on another origin cannot reach it by DNS rebinding.</summary>
    private static bool IsLocalHost(HttpContext context)
    {
        var host = context.Request.Host.Host;
        return host is "localhost" or "127.0.0.1" or "::1" or "[::1]" || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));
    }

    /// <summary>
    /// A browser's request made by a page of another origin: its <c>Origin</c> is not this gateway's own, or its
    /// <c>Sec-Fetch-Site</c> says cross-site. Clients that are not browsers send neither.
    /// </summary>
    private static bool IsCrossOrigin(HttpContext context)
    {
        var headers = context.Request.Headers;
        if (headers["Sec-Fetch-Site"].ToString().Equals("cross-site", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        var origin = headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return false;
        }

        // "null" (sandboxed frames, file: pages) is another origin too.
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var originUri))
        {
            return true;
        }

        var request = context.Request;
        var port = request.Host.Port ?? (request.IsHttps ? 443 : 80);
        var sameOrigin = originUri.Scheme.Equals(request.Scheme, StringComparison.OrdinalIgnoreCase)
            && originUri.IdnHost.Trim('[', ']').Equals(request.Host.Host.Trim('[', ']'), StringComparison.OrdinalIgnoreCase)
            && originUri.Port == port;
        return !sameOrigin;
    }

    [LoggerMessage(
        EventId = 1201,
        Level = LogLevel.Critical,
        Message = "LlmTrace:AdminKey is an unresolved Key Vault reference; admin access is refused until it resolves.")]
    private static partial void AdminKeyUnresolved(ILogger logger);

    private static bool IsLoopback(HttpContext context)
    {
        var remote = context.Connection.RemoteIpAddress;
        // Forwarded-for headers are not trusted here: only the socket's own peer counts.
        return remote is not null && IPAddress.IsLoopback(remote);
    }
}
