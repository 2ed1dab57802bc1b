using LlmTrace.Domain.Providers;

namespace LlmTrace.Tests.Providers;

public sealed class GatewayRouteTests
{
    public static TheoryData<string, string, string?, string?, string> Cases => new()
    {
        { "openai", "https://api.openai.com", "chat/completions", null, "https://api.openai.com/v1/chat/completions" },
        { "openai", "http://localhost:8000/", "models", "?x=1", "http://localhost:8000/v1/models?x=1" },
        { "openai", "http://vllm.internal/base", "chat/completions", null, "http://vllm.internal/base/v1/chat/completions" },
        { "azure-openai", "https://res.openai.azure.com", "deployments/d/chat/completions", "?api-version=2024-10-21", "https://res.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-10-21" },
        { "anthropic", "https://api.anthropic.com", "v1/messages", null, "https://api.anthropic.com/v1/messages" },
        { "gemini", "https://generativelanguage.googleapis.com", "v1beta/models/gemini-2.0-flash:streamGenerateContent", "?alt=sse", "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse" },
        { "openai", "https://api.openai.com", "files/a%2Fb", null, "https://api.openai.com/v1/files/a%2Fb" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void BuildUpstreamUri_Route_PutsPrefixPathAndQueryBehindTheUpstream(string route, string upstream, string? path, string? query, string expected)
    {
        var target = GatewayRoute.All.Single(r => r.Name == route);

        Assert.Equal(expected, target.BuildUpstreamUri(new Uri(upstream), path, query).AbsoluteUri);
    }

    [Theory]
    [InlineData("https://api.openai.com", ProviderKind.OpenAI)]
    [InlineData("https://API.OPENAI.COM/", ProviderKind.OpenAI)]
    [InlineData("http://localhost:11434", ProviderKind.OpenAICompatible)]
    public void GetProvider_DefaultRoute_DependsOnTheUpstreamHost(string upstream, ProviderKind expected)
        => Assert.Equal(expected, GatewayRoute.OpenAI.GetProvider(new Uri(upstream)));
}
