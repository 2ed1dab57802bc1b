using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmTrace.Domain.Costs;

/// <summary>The catalog file format (shipped and override): prices in US dollars per one million tokens.</summary>
public sealed record PricingCatalogDocument
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

    public decimal Output { get; init; }

    public IReadOnlyList<string> Aliases { get; init; } = [];
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(PricingCatalogDocument))]
internal sealed partial class PricingJsonContext : JsonSerializerContext;
