using LlmTrace.Domain.Costs;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace LlmTrace.Tests.Costs;

public sealed class PricingCatalogTests
{
    [Theory]
    [InlineData("openai", "gpt-4o-mini-2024-07-18", "gpt-4o-mini")]
    [InlineData("azure-openai", "gpt-4o-2024-08-06", "gpt-4o")]
    [InlineData("azure-openai", "gpt-35-turbo", "gpt-3.5-turbo")]
    [InlineData("openai", "GPT-4.1-MINI", "gpt-4.1-mini")]
    [InlineData("openai", "o3-mini-high", null)] // a longer name is another model, not a guess
    [InlineData("openai", "o3-pro-2025-06-10", "o3-pro")]
    [InlineData("openai", "o3-2025-04-16", "o3")]
    [InlineData("anthropic", "claude-sonnet-4-5@20250929", "claude-sonnet-4-5")]
    [InlineData("openai", "gpt-4o-mini-tts", null)]
    [InlineData("openai", "gpt-4o-realtime-preview", null)]
    [InlineData("openai-compatible", "openai/gpt-4o", "gpt-4o")]
    [InlineData("anthropic", "claude-3-5-sonnet-20241022", "claude-3-5-sonnet")]
    [InlineData("anthropic", "claude-sonnet-4-5-20250929", "claude-sonnet-4-5")]
    [InlineData("anthropic", "claude-3-5-haiku-latest", "claude-3-5-haiku")]
    [InlineData("gemini", "gemini-2.0-flash-001", "gemini-2.0-flash")]
    [InlineData("gemini", "models/gemini-1.5-pro", "gemini-1.5-pro")]
    [InlineData("gemini", "gemini-2.5-flash-lite", "gemini-2.5-flash-lite")]
    public void Find_ModelNameVariants_ResolveToTheirCatalogEntry(string provider, string model, string? expected)
        => Assert.Equal(expected, Catalog().Find(provider, model)?.Model);

    [Theory]
    [InlineData("o3-mini-high", null)]
    [InlineData("o1-pro-2025-03-19", "o1-pro")]
    [InlineData("o4-mini-deep-research", null)]
    [InlineData("gpt-4o-mini-2024-07-18", "gpt-4o-mini")]
    [InlineData("openai/gpt-4o", "gpt-4o")]
    public void FindExact_ListedNamesOnly_NoPrefixGuess(string model, string? expected)
        => Assert.Equal(expected, Catalog().FindExact("openai", model)?.Model);

    [Theory]
    [InlineData("llama-3.1-70b")]
    [InlineData("my-fine-tune")]
    [InlineData("")]
    public void Find_UnknownModel_IsNull(string model) => Assert.Null(Catalog().Find("openai-compatible", model));

    [Fact]
    public void Price_SplitsCachedInputAndOutput()
    {
        // gpt-4o: 2.50 input, 1.25 cached input, 10.00 output per 1M tokens.
        var cost = Catalog().Price("openai", "gpt-4o-2024-08-06", promptTokens: 1_000_000, completionTokens: 500_000, cachedPromptTokens: 200_000)!;

        Assert.Equal(2.00m, cost.Input);
        Assert.Equal(0.25m, cost.CachedInput);
        Assert.Equal(5.00m, cost.Output);
        Assert.Equal(7.25m, cost.Total);
        Assert.Equal("gpt-4o", cost.PricedAs);
        Assert.Equal("2026-11-01", cost.CatalogDate);
    }

    [Fact]
    public void Price_OverrideFile_AddsAndReplacesEntriesAndIsReReadWhenItChanges()
    {
        var path = Path.Combine(Path.GetTempPath(), $"pricing-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """{"asOf":"2026-11-20","models":[{"model":"llama-3.1-70b","input":0.5,"output":1.0},{"model":"gpt-4o","input":1.0,"output":2.0}]}""");
        var time = new FakeTimeProvider();
        var catalog = Catalog(path, time);
        try
        {
            Assert.Equal(1.5m, catalog.Price("openai-compatible", "llama-3.1-70b", 1_000_000, 1_000_000, null)!.Total);
            Assert.Equal(3.0m, catalog.Price("openai", "gpt-4o", 1_000_000, 1_000_000, null)!.Total);
            Assert.Equal("2026-11-01+2026-11-20", catalog.CatalogDate);

            File.WriteAllText(path, """{"asOf":"2026-11-21","models":[{"model":"llama-3.1-70b","input":0.25,"output":0.5}]}""");
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(1));
            time.Advance(TimeSpan.FromSeconds(6));

            Assert.Equal(0.75m, catalog.Price("openai-compatible", "llama-3.1-70b", 1_000_000, 1_000_000, null)!.Total);
            Assert.Equal(12.5m, catalog.Price("openai", "gpt-4o", 1_000_000, 1_000_000, null)!.Total); // back to the shipped price
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Price_UnreadableOverride_KeepsTheShippedCatalog()
    {
        var path = Path.Combine(Path.GetTempPath(), $"pricing-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, "{ not json");
        try
        {
            Assert.Equal("gpt-4o-mini", Catalog(path).Price("openai", "gpt-4o-mini", 10, 10, 0)!.PricedAs);
        }
        finally
        {
            File.Delete(path);
        }
    }

    internal static PricingCatalog Catalog(string? overridePath = null, TimeProvider? time = null)
    {
        var options = new OptionsMonitorStub<PricingOptions>(new PricingOptions { CatalogPath = overridePath });
        return new PricingCatalog(options, time ?? TimeProvider.System, NullLogger<PricingCatalog>.Instance);
    }
}

/// <summary>A fixed <see cref="IOptionsMonitor{TOptions}"/>.</summary>
internal sealed class OptionsMonitorStub<T>(T value) : IOptionsMonitor<T>
{
    public T CurrentValue { get; set; } = value;

    public T Get(string? name) => CurrentValue;

    public IDisposable? OnChange(Action<T, string?> listener) => null;
}
