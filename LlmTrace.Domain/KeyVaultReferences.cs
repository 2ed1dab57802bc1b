namespace LlmTrace.Domain;

/// <summary>
/// App Service hands an app setting whose Key Vault reference it could not resolve (secret missing, access not yet
/// granted) to the app as the reference's literal text. Such a value is public knowledge, so it counts as unset.
/// </summary>
internal static class KeyVaultReferences
{
    public static bool IsUnresolved(string? value) => value?.TrimStart().StartsWith("@Microsoft.KeyVault(", StringComparison.OrdinalIgnoreCase) == true;

    /// <summary>The value, or null when it is empty or an unresolved reference.</summary>
    public static string? Resolved(string? value) => string.IsNullOrEmpty(value) || IsUnresolved(value) ? null : value;
}
