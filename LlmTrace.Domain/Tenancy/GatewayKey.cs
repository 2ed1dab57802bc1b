using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;

namespace LlmTrace.Domain.Tenancy;

/// <summary>What a gateway key may do. Every role but <c>viewer</c> may proxy calls as its tenant.</summary>
internal static class KeyRoles
{
    /// <summary>Proxy calls only (the default for application keys).</summary>
    public const string App = "app";

    /// <summary>Read the tenant's traces, spend, budget and findings.</summary>
    public const string Viewer = "viewer";

    /// <summary>Everything in its own tenant: settings, keys, budget, audit.</summary>
    public const string TenantAdmin = "tenant-admin";

    /// <summary>Every tenant, and creating or deleting tenants.</summary>
    public const string Admin = "admin";

    public static IReadOnlyList<string> All { get; } = [App, Viewer, TenantAdmin, Admin];
}

/// <summary>A stored gateway key: never the secret, only its salted SHA-256.</summary>
public sealed record GatewayKey
{
    public required string KeyId { get; init; }

    public required Guid TenantId { get; init; }

    public string? Name { get; init; }

    public required IReadOnlyList<string> Roles { get; init; }

    /// <summary>The start of the key as shown to people, e.g. <c>ltk_k3m9x2p4q7w8</c>.</summary>
    public required string Prefix { get; init; }

    public required string LastFour { get; init; }

    /// <summary>Optional per-key limits, in addition to the tenant's.</summary>
    public RateLimitSettings? RateLimits { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public string? CreatedBy { get; init; }

    public DateTimeOffset? LastUsedAt { get; init; }

    public DateTimeOffset? RevokedAt { get; init; }

    [JsonPropertyName("salt")]
    public required string Salt { get; init; }

    [JsonPropertyName("hash")]
    public required string Hash { get; init; }

    public bool Has(string role) => Roles.Contains(role, StringComparer.Ordinal);

    public bool CanProxy => Roles.Any(r => r != KeyRoles.Viewer);
}

/// <summary>
/// The gateway key format <c>ltk_{id}_{secret}</c>: a 12-character id to find the record, and a 40-character secret
/// (~238 bits) kept only as SHA-256(salt ‖ secret). A secret this long needs no slow hash: it cannot be guessed.
/// </summary>
internal static class GatewayKeyFormat
{
    public const string Marker = "ltk_";
    private const string IdAlphabet = "abcdefghijkmnpqrstuvwxyz23456789";
    private const string SecretAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789";
    private const int IdLength = 12;
    private const int SecretLength = 40;

    public static bool LooksLikeKey(ReadOnlySpan<char> value) => value.StartsWith(Marker, StringComparison.Ordinal);

    /// <summary>True for a key id in the format this gateway issues (12 characters of its id alphabet).</summary>
    public static bool IsKeyId(ReadOnlySpan<char> value) => value.Length == IdLength && !value.ContainsAnyExcept(IdAlphabet);

    /// <summary>A new key: the full secret text (to show once) and the record to store.</summary>
    public static (string Secret, GatewayKey Record) Create(
        Guid tenantId, string? name, IReadOnlyList<string> roles, RateLimitSettings? limits, string? createdBy, DateTimeOffset now)
    {
        var id = RandomNumberGenerator.GetString(IdAlphabet, IdLength);
        var secret = RandomNumberGenerator.GetString(SecretAlphabet, SecretLength);
        var salt = RandomNumberGenerator.GetBytes(16);
        var text = $"{Marker}{id}_{secret}";
        var record = new GatewayKey
        {
            KeyId = id,
            TenantId = tenantId,
            Name = name,
            Roles = roles,
            Prefix = Marker + id,
            LastFour = secret[^4..],
            RateLimits = limits,
            CreatedAt = now,
            CreatedBy = createdBy,
            Salt = Convert.ToBase64String(salt),
            Hash = Convert.ToBase64String(HashSecret(salt, secret)),
        };
        return (text, record);
    }

    /// <summary>Splits a presented key into its id and secret; false when it is not in the format.</summary>
    public static bool TryParse(ReadOnlySpan<char> value, out string keyId, out string secret)
    {
        keyId = secret = string.Empty;
        if (!LooksLikeKey(value) || value.Length != Marker.Length + IdLength + 1 + SecretLength || value[Marker.Length + IdLength] != '_')
        {
            return false;
        }

        var id = value.Slice(Marker.Length, IdLength);
        var rest = value[(Marker.Length + IdLength + 1)..];
        if (id.ContainsAnyExcept(IdAlphabet) || rest.ContainsAnyExcept(SecretAlphabet))
        {
            return false;
        }

        keyId = id.ToString();
        secret = rest.ToString();
        return true;
    }

    /// <summary>True when <paramref name="secret"/> is the one the record was made from, in constant time.</summary>
    public static bool Verify(GatewayKey record, string secret)
    {
        Span<byte> expected = stackalloc byte[32];
        if (!Convert.TryFromBase64String(record.Hash, expected, out var written) || written != 32)
        {
            return false;
        }

        var actual = HashSecret(Convert.FromBase64String(record.Salt), secret);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    private static byte[] HashSecret(byte[] salt, string secret)
    {
        var secretBytes = Encoding.UTF8.GetBytes(secret);
        var input = new byte[salt.Length + secretBytes.Length];
        salt.CopyTo(input, 0);
        secretBytes.CopyTo(input, salt.Length);
        var hash = SHA256.HashData(input);
        CryptographicOperations.ZeroMemory(input);
        CryptographicOperations.ZeroMemory(secretBytes);
        return hash;
    }
}
