namespace LlmTrace.Domain.Costs;

/// <summary>Bound from <c>LlmTrace:Pricing</c>.</summary>
public sealed class PricingOptions
{
    public const string SectionName = "LlmTrace:Pricing";

    /// <summary>A JSON file in the shipped catalog's format whose entries add to or replace the shipped ones. Re-read when it changes.</summary>
    public string? CatalogPath { get; set; }
}
