namespace LlmTrace.Domain.Providers;

/// <summary>Where each route forwards to. Bound from <c>LlmTrace:Upstreams</c> (env: <c>LlmTrace__Upstreams__Default</c> …).</summary>
public sealed class UpstreamOptions
{
    public const string SectionName = "LlmTrace:Upstreams";

    /// <summary>Origin for <c>/v1/**</c>. api.openai.com means provider "openai"; anything else is "openai-compatible".</summary>
    public Uri? Default { get; set; } = new("https://api.openai.com");

    /// <summary>Azure OpenAI resource endpoint for <c>/openai/**</c>, e.g. https://my-resource.openai.azure.com. No default.</summary>
    public Uri? AzureOpenAI { get; set; }

    public Uri? Anthropic { get; set; } = new("https://api.anthropic.com");

    public Uri? Gemini { get; set; } = new("https://generativelanguage.googleapis.com");
}
