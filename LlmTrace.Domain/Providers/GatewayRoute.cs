namespace LlmTrace.Domain.Providers;

/// <summary>
/// One proxied route family: the client-facing prefix, the upstream it forwards to and the provider it speaks.
/// The set is fixed; hosts map each one to a catch-all route.
/// </summary>
public sealed class GatewayRoute
{
    private readonly Func<UpstreamOptions, Uri?> _upstream;

    private GatewayRoute(string name, string clientPrefix, string upstreamPrefix, Func<UpstreamOptions, Uri?> upstream, string settingName)
    {
        Name = name;
        ClientPrefix = clientPrefix;
        UpstreamPrefix = upstreamPrefix;
        _upstream = upstream;
        SettingName = settingName;
    }

    /// <summary>OpenAI and any OpenAI-compatible server: <c>/v1/{path}</c> → <c>{upstream}/v1/{path}</c>.</summary>
    public static GatewayRoute OpenAI { get; } = new("openai", "/v1", "/v1", o => o.Default, "LlmTrace__Upstreams__Default");

    /// <summary>Azure OpenAI: <c>/openai/{path}</c> → <c>{upstream}/openai/{path}</c>.</summary>
    public static GatewayRoute AzureOpenAI { get; } = new("azure-openai", "/openai", "/openai", o => o.AzureOpenAI, "LlmTrace__Upstreams__AzureOpenAI");

    /// <summary>Anthropic: <c>/anthropic/{path}</c> → <c>{upstream}/{path}</c>.</summary>
    public static GatewayRoute Anthropic { get; } = new("anthropic", "/anthropic", "", o => o.Anthropic, "LlmTrace__Upstreams__Anthropic");

    /// <summary>Gemini: <c>/gemini/{path}</c> → <c>{upstream}/{path}</c>.</summary>
    public static GatewayRoute Gemini { get; } = new("gemini", "/gemini", "", o => o.Gemini, "LlmTrace__Upstreams__Gemini");

    public static IReadOnlyList<GatewayRoute> All { get; } = [OpenAI, AzureOpenAI, Anthropic, Gemini];

    public string Name { get; }

    /// <summary>The path prefix clients call, without a trailing slash.</summary>
    public string ClientPrefix { get; }

    /// <summary>The path prefix put back in front of the remaining path upstream.</summary>
    public string UpstreamPrefix { get; }

    /// <summary>The environment-variable form of the setting that configures this route's upstream.</summary>
    public string SettingName { get; }

    /// <summary>The key of this route's backend pool under <c>LlmTrace:Upstreams:Pools</c> (the single URL's setting name).</summary>
    public string PoolKey => SettingName[(SettingName.LastIndexOf('_') + 1)..];

    public Uri? GetUpstream(UpstreamOptions options) => _upstream(options);

    /// <summary>The provider this route speaks, given the configured upstream (none configured: the route's own provider).</summary>
    public ProviderKind GetProvider(Uri? upstream)
    {
        if (upstream is null)
        {
            return ReferenceEquals(this, AzureOpenAI) ? ProviderKind.AzureOpenAI
                : ReferenceEquals(this, Anthropic) ? ProviderKind.Anthropic
                : ReferenceEquals(this, Gemini) ? ProviderKind.Gemini
                : ProviderKind.OpenAI;
        }

        if (ReferenceEquals(this, OpenAI))
        {
            return string.Equals(upstream.Host, "api.openai.com", StringComparison.OrdinalIgnoreCase)
                ? ProviderKind.OpenAI
                : ProviderKind.OpenAICompatible;
        }

        if (ReferenceEquals(this, AzureOpenAI))
        {
            return ProviderKind.AzureOpenAI;
        }

        return ReferenceEquals(this, Anthropic) ? ProviderKind.Anthropic : ProviderKind.Gemini;
    }

    /// <summary>Builds <c>{upstream}{UpstreamPrefix}/{path}{query}</c>, keeping any base path the upstream has.</summary>
    public Uri BuildUpstreamUri(Uri upstream, string? path, string? query)
    {
        var basePath = upstream.AbsolutePath.TrimEnd('/');
        var builder = new System.Text.StringBuilder(upstream.GetLeftPart(UriPartial.Authority).Length + 64);
        builder.Append(upstream.GetLeftPart(UriPartial.Authority)).Append(basePath).Append(UpstreamPrefix);
        if (!string.IsNullOrEmpty(path))
        {
            builder.Append('/').Append(path.TrimStart('/'));
        }

        if (!string.IsNullOrEmpty(query))
        {
            builder.Append(query[0] == '?' ? query : "?" + query);
        }

        return new Uri(builder.ToString(), UriKind.Absolute);
    }
}
