using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace LlmTrace.Domain.Tenancy;

/// <summary>
/// Decides which tenant and agent a proxied call belongs to:
/// <c>X-LLMTrace-Tenant-ID</c> when it is a UUID, else a UUIDv5 of the client's API key, else <see cref="DefaultTenantId"/>.
/// The key itself is hashed in place and never kept.
/// </summary>
internal static class TenantResolver
{
    public const string TenantHeader = "X-LLMTrace-Tenant-ID";
    public const string AgentHeader = "X-LLMTrace-Agent-ID";
    public const int MaxAgentIdLength = 128;

    /// <summary>The tenant of calls that carry neither a tenant header nor an API key.</summary>
    public static readonly Guid DefaultTenantId = new("00000000-0000-0000-0000-000000000001");

    /// <summary>The UUIDv5 namespace for tenants derived from API keys (a fixed random UUID; changing it re-keys every tenant).</summary>
    public static readonly Guid ApiKeyNamespace = new("6f1c2a8e-3d4b-4f5a-9c7e-1b2d3e4f5a6b");

    public static Guid ResolveTenant(IHeaderDictionary headers, IQueryCollection query)
    {
        if (Guid.TryParse(headers[TenantHeader].ToString(), out var explicitTenant) && explicitTenant != Guid.Empty)
        {
            return explicitTenant;
        }

        var key = FindApiKey(headers, query);
        return key is null ? DefaultTenantId : CreateVersion5(ApiKeyNamespace, key);
    }

    public static string? ResolveAgent(IHeaderDictionary headers)
    {
        var value = headers[AgentHeader].ToString().Trim();
        if (value.Length == 0)
        {
            return null;
        }

        if (value.Length <= MaxAgentIdLength)
        {
            return value;
        }

        // Never cut between the two halves of a surrogate pair (an emoji at the limit would become U+FFFD).
        var length = char.IsHighSurrogate(value[MaxAgentIdLength - 1]) ? MaxAgentIdLength - 1 : MaxAgentIdLength;
        return value[..length];
    }

    /// <summary>The provider credential the client sent, in any provider's header (or Gemini's <c>key</c> query parameter).</summary>
    internal static string? FindApiKey(IHeaderDictionary headers, IQueryCollection query)
    {
        var authorization = headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && authorization.Length > 7)
        {
            return authorization[7..].Trim();
        }

        foreach (var name in (ReadOnlySpan<string>)["api-key", "x-api-key", "x-goog-api-key"])
        {
            var value = headers[name].ToString();
            if (value.Length > 0)
            {
                return value.Trim();
            }
        }

        var queryKey = query["key"].ToString();
        return queryKey.Length > 0 ? queryKey : null;
    }

    /// <summary>RFC 9562 UUID version 5 (SHA-1, name-based).</summary>
    public static Guid CreateVersion5(Guid namespaceId, string name)
    {
        Span<byte> namespaceBytes = stackalloc byte[16];
        namespaceId.TryWriteBytes(namespaceBytes, bigEndian: true, out _);
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var input = new byte[16 + nameBytes.Length];
        namespaceBytes.CopyTo(input);
        nameBytes.CopyTo(input.AsSpan(16));
        Span<byte> hash = stackalloc byte[20];
        SHA1.HashData(input, hash);
        CryptographicOperations.ZeroMemory(input);
        CryptographicOperations.ZeroMemory(nameBytes);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true);
    }
}
