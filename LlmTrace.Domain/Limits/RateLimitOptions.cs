using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Limits;

/// <summary>Rate-limit mechanics. Bound from <c>LlmTrace:RateLimits</c>; the limits themselves are tenant and key settings.</summary>
public sealed class RateLimitOptions
{
    public const string SectionName = "LlmTrace:RateLimits";

    /// <summary>
    /// The share of a limit a process takes from the shared counter at a time, so that most calls are admitted from a
    /// local allowance without a storage round trip. 0 takes exactly what each call needs (every call hits the store).
    /// Admission never exceeds the limit; up to (processes × allowance) units may go unused in a minute.
    /// Unset: 0 in SelfHost (its counters are in memory anyway), 0.05 in Azure.
    /// </summary>
    public double? LocalAllowanceFraction { get; set; }

    /// <summary>Output tokens assumed, for the token limit and a hard cap's cost hold, when a request sets no <c>max_tokens</c>.</summary>
    public int DefaultOutputTokens { get; set; } = 1024;
}

internal sealed class RateLimitOptionsValidator : IValidateOptions<RateLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, RateLimitOptions options)
    {
        if (options.LocalAllowanceFraction is < 0 or > 0.5)
        {
            return ValidateOptionsResult.Fail("LlmTrace:RateLimits:LocalAllowanceFraction must be from 0 to 0.5.");
        }

        return options.DefaultOutputTokens < 0
            ? ValidateOptionsResult.Fail("LlmTrace:RateLimits:DefaultOutputTokens must not be negative.")
            : ValidateOptionsResult.Success;
    }
}
