using System.Collections.Concurrent;
using Azure.Core;

namespace LlmTrace.Domain.Routing;

/// <summary>
/// Entra ID access tokens for backends reached with the gateway's own identity (managed identity in Azure, a developer
/// login locally: <c>DefaultAzureCredential</c>). A token is cached per scope and refreshed five minutes before it
/// expires, one refresh at a time; while a refresh fails, a token that has not yet expired is still used.
/// </summary>
public sealed class EntraTokenSource(TokenCredential credential, TimeProvider time)
{
    /// <summary>The scope of Azure OpenAI and the other Cognitive Services.</summary>
    public const string CognitiveServicesScope = "https://cognitiveservices.azure.com/.default";

    private static readonly TimeSpan RefreshMargin = TimeSpan.FromMinutes(5);
    private readonly ConcurrentDictionary<string, Cached> _cache = new(StringComparer.Ordinal);

    public async ValueTask<string> GetAsync(string scope, CancellationToken cancellationToken)
    {
        var cached = _cache.GetOrAdd(scope, _ => new Cached());
        var now = time.GetUtcNow();
        if (cached.Token is { } fresh && now < fresh.ExpiresOn - RefreshMargin)
        {
            return fresh.Token;
        }

        await cached.Refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (cached.Token is { } refreshed && time.GetUtcNow() < refreshed.ExpiresOn - RefreshMargin)
            {
                return refreshed.Token; // another call refreshed it meanwhile
            }

            try
            {
                var token = await credential.GetTokenAsync(new TokenRequestContext([scope]), cancellationToken).ConfigureAwait(false);
                cached.Token = token;
                return token.Token;
            }
            catch (Exception) when (cached.Token is { } stale && time.GetUtcNow() < stale.ExpiresOn && !cancellationToken.IsCancellationRequested)
            {
                return stale.Token; // Entra ID is unreachable for now; the token in hand is still valid
            }
        }
        finally
        {
            cached.Refresh.Release();
        }
    }

    private sealed class Cached
    {
        public SemaphoreSlim Refresh { get; } = new(1, 1);

        public AccessToken? Token { get; set; }
    }
}
