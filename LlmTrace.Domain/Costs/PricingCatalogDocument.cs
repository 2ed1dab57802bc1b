using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmTrace.Domain.Costs;

/// <summary>The catalog file format (shipped and override): prices in US dollars per one million tokens.</summary>
internal sealed record PricingCatalogDocument
{
    public string? AsOf { get; init; }

    public string Currency { get; init; } = "USD";

    public IReadOnlyList<ModelPrice> Models { get; init; } = [];
}

public sealed record ModelPrice
{
    public required string Model { get; init; }

    /// <summary>Optional: restrict the entry to one provider (openai, azure-openai, anthropic, gemini, openai-compatible).</summary>
    public string? Provider { get; init; }

    public decimal Input { get; init; }

    public decimal? CachedInput { get; init; }

    /// <summary>Prompt-cache writes kept five minutes (Anthropic: 1.25 × input); the input rate when not set.</summary>
    public decimal? CacheWrite { get; init; }

    /// <summary>Prompt-cache writes kept one hour (Anthropic: 2 × input); <see cref="CacheWrite"/> when not set.</summary>
    public decimal? CacheWrite1h { get; init; }

    /// <summary>Where the prices come from (a provider's price page), for the catalog's reviewers.</summary>
    public string? Source { get; init; }

    public decimal Output { get; init; }

    public IReadOnlyList<string> Aliases { get; init; } = [];
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(PricingCatalogDocument))]
internal sealed partial class PricingJsonContext : JsonSerializerContext;
