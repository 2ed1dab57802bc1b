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

    /// <summary>
    /// Backend pools by route (<c>Default</c>, <c>AzureOpenAI</c>, <c>Anthropic</c>, <c>Gemini</c>), e.g.
    /// <c>LlmTrace__Upstreams__Pools__AzureOpenAI__Backends__0__Url</c>. A route with a pool uses it instead of its single
    /// URL; a route without one forwards to its single URL exactly as before (no cooling, no breaker, responses untouched).
    /// </summary>
    public Dictionary<string, PoolOptions> Pools { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>The backends one route spreads its calls over, and how hard it tries.</summary>
public sealed class PoolOptions
{
    public List<BackendOptions> Backends { get; set; } = [];

    /// <summary>At most this many backends are tried for one call (failover happens only before any response byte).</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>How long a backend that answered 429 without saying how long to wait is left alone.</summary>
    public int DefaultCoolingSeconds { get; set; } = 10;

    /// <summary>The longest a 429's <c>retry-after</c> may cool a backend for.</summary>
    public int MaxCoolingSeconds { get; set; } = 300;
}

/// <summary>One backend of a pool.</summary>
public sealed class BackendOptions
{
    /// <summary>Shown in traces, metrics and <c>/health</c>; defaults to the URL's host.</summary>
    public string? Name { get; set; }

    public Uri? Url { get; set; }

    /// <summary>Lower is preferred: the lowest priority group with a backend that is not cooling or broken serves.</summary>
    public int Priority { get; set; }

    /// <summary>Share of calls within its priority group.</summary>
    public int Weight { get; set; } = 1;

    /// <summary>How long to wait for this backend's response headers before failing over (default: the proxy's idle timeout).</summary>
    public int? TimeoutSeconds { get; set; }

    /// <summary>
    /// Azure OpenAI: the deployment that serves a model name, so <c>/openai/deployments/gpt-4o/…</c> reaches this
    /// account's own deployment (<c>…__Deployments__gpt-4o=gpt-4o-ptu</c>).
    /// </summary>
    public Dictionary<string, string> Deployments { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// How the gateway signs in to this backend: <c>Key</c> (the provider key, as for a single URL) or
    /// <c>ManagedIdentity</c> (an Entra ID token for <see cref="TokenScope"/> from the gateway's own identity, replacing
    /// any key; Azure OpenAI needs the "Cognitive Services OpenAI User" role for it).
    /// </summary>
    public BackendCredential Credential { get; set; }

    public string TokenScope { get; set; } = Routing.EntraTokenSource.CognitiveServicesScope;

    /// <summary>
    /// With <c>Key</c>: the name under <c>LlmTrace:ProviderKeys</c> of this backend's own key, when the pool spans
    /// accounts with different keys (in App Service, a Key Vault reference). It replaces the key the gateway would
    /// otherwise substitute; a client's own key in pass-through mode is forwarded as sent.
    /// </summary>
    public string? KeySetting { get; set; }
}

/// <summary>How the gateway signs in to a backend.</summary>
public enum BackendCredential
{
    Key,
    ManagedIdentity,
}
