using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Providers;

/// <summary>Every configured upstream must be an absolute http(s) URI with no query or fragment.</summary>
internal sealed class UpstreamOptionsValidator : IValidateOptions<UpstreamOptions>
{
    public ValidateOptionsResult Validate(string? name, UpstreamOptions options)
    {
        var failures = new List<string>();
        Check(options.Default, "Default");
        Check(options.AzureOpenAI, "AzureOpenAI");
        Check(options.Anthropic, "Anthropic");
        Check(options.Gemini, "Gemini");
        foreach (var (key, pool) in options.Pools)
        {
            if (!GatewayRoute.All.Any(r => string.Equals(r.PoolKey, key, StringComparison.OrdinalIgnoreCase)))
            {
                failures.Add($"LlmTrace:Upstreams:Pools:{key} names no route; use {string.Join(", ", GatewayRoute.All.Select(r => r.PoolKey))}.");
            }

            if (pool.Backends.Count == 0)
            {
                failures.Add($"LlmTrace:Upstreams:Pools:{key} has no backends.");
            }

            if (pool.MaxAttempts < 1 || pool.DefaultCoolingSeconds < 0 || pool.MaxCoolingSeconds < 1)
            {
                failures.Add($"LlmTrace:Upstreams:Pools:{key}: MaxAttempts and MaxCoolingSeconds must be at least 1, DefaultCoolingSeconds at least 0.");
            }

            for (var i = 0; i < pool.Backends.Count; i++)
            {
                var backend = pool.Backends[i];
                var setting = $"Pools:{key}:Backends:{i}";
                if (backend.Url is null)
                {
                    failures.Add($"LlmTrace:Upstreams:{setting}:Url is required.");
                }

                Check(backend.Url, setting + ":Url");
                if (backend.Weight < 1 || backend.Priority < 0 || backend.TimeoutSeconds is < 1)
                {
                    failures.Add($"LlmTrace:Upstreams:{setting}: Weight must be at least 1, Priority at least 0, TimeoutSeconds at least 1.");
                }
            }

            var names = pool.Backends.Select(Routing.BackendPools.NameOf).ToList();
            if (names.Distinct(StringComparer.Ordinal).Count() != names.Count)
            {
                failures.Add($"LlmTrace:Upstreams:Pools:{key}: backend names must differ (set Name where two share a host).");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Check(Uri? uri, string setting)
        {
            if (uri is null)
            {
                return;
            }

            if (!uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.Query.Length > 0 || uri.Fragment.Length > 0)
            {
                failures.Add($"LlmTrace:Upstreams:{setting} must be an absolute http or https URI without query or fragment (got '{uri}').");
            }
        }
    }
}
