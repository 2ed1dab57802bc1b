namespace LlmTrace.Domain.Providers;

/// <summary>The API family a call belongs to; decides how requests and responses are read.</summary>
public enum ProviderKind
{
    Unknown = 0,
    OpenAI,
    AzureOpenAI,
    Anthropic,
    Gemini,
    OpenAICompatible,
}

internal static class ProviderKindExtensions
{
    /// <summary>The setting under <c>LlmTrace:ProviderKeys</c> that holds a provider's credential unless the tenant names another.</summary>
    public static string KeySettingName(this ProviderKind kind) => kind switch
    {
        ProviderKind.AzureOpenAI => "AzureOpenAI",
        ProviderKind.Anthropic => "Anthropic",
        ProviderKind.Gemini => "Gemini",
        ProviderKind.OpenAICompatible => "OpenAICompatible",
        _ => "OpenAI",
    };

    /// <summary>The header a provider reads its API key from, and the header value for <paramref name="key"/>.</summary>
    public static (string Header, string Value) Credential(this ProviderKind kind, string key) => kind switch
    {
        ProviderKind.AzureOpenAI => ("api-key", key),
        ProviderKind.Anthropic => ("x-api-key", key),
        ProviderKind.Gemini => ("x-goog-api-key", key),
        _ => ("Authorization", "Bearer " + key),
    };

    /// <summary>The name used in traces and filters.</summary>
    public static string ToWireName(this ProviderKind kind) => kind switch
    {
        ProviderKind.OpenAI => "openai",
        ProviderKind.AzureOpenAI => "azure-openai",
        ProviderKind.Anthropic => "anthropic",
        ProviderKind.Gemini => "gemini",
        ProviderKind.OpenAICompatible => "openai-compatible",
        _ => "unknown",
    };

    public static bool TryParseWireName(string? value, out ProviderKind kind)
    {
        kind = value?.ToLowerInvariant() switch
        {
            "openai" => ProviderKind.OpenAI,
            "azure-openai" => ProviderKind.AzureOpenAI,
            "anthropic" => ProviderKind.Anthropic,
            "gemini" => ProviderKind.Gemini,
            "openai-compatible" => ProviderKind.OpenAICompatible,
            "unknown" => ProviderKind.Unknown,
            _ => (ProviderKind)(-1),
        };
        return (int)kind >= 0;
    }

    /// <summary>True for the providers that speak OpenAI's wire format.</summary>
    public static bool IsOpenAIFamily(this ProviderKind kind)
        => kind is ProviderKind.OpenAI or ProviderKind.AzureOpenAI or ProviderKind.OpenAICompatible;
}
