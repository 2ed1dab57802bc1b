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
