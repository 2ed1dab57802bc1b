using System.Net;
using System.Security.Cryptography;
using System.Text;
using LlmTrace.Domain.Providers;
using LlmTrace.Domain.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Management;

/// <summary>Guards the management API: the admin key in constant time, or loopback-only when no key is set and the host allows it.</summary>
public sealed class ManagementAuthorizer(IOptionsMonitor<ManagementOptions> options)
{
    /// <summary>True when the caller may proceed; otherwise the 401/403 answer has been written.</summary>
    public async Task<bool> AuthorizeAsync(HttpContext context)
    {
        var settings = options.CurrentValue;
        if (string.IsNullOrEmpty(settings.AdminKey))
        {
            if (settings.AllowLoopbackWithoutKey && IsLoopback(context))
            {
                return true;
            }

            await GatewayErrors.WriteAsync(context, ProviderKind.OpenAI, StatusCodes.Status403Forbidden, "permission_error", "admin_key_not_configured",
                "The management API needs LlmTrace__AdminKey to be set for non-loopback clients.").ConfigureAwait(false);
            return false;
        }

        var header = context.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && KeysMatch(header.AsSpan(7).Trim(), settings.AdminKey))
        {
            return true;
        }

        context.Response.Headers.WWWAuthenticate = "Bearer";
        await GatewayErrors.WriteAsync(context, ProviderKind.OpenAI, StatusCodes.Status401Unauthorized, "authentication_error", "invalid_admin_key",
            "Management calls need Authorization: Bearer <admin key>.").ConfigureAwait(false);
        return false;
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

    private static bool IsLoopback(HttpContext context)
    {
        var remote = context.Connection.RemoteIpAddress;
        // Forwarded-for headers are not trusted here: only the socket's own peer counts.
        return remote is not null && IPAddress.IsLoopback(remote);
    }
}
