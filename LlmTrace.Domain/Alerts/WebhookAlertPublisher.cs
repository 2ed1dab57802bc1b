using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Alerts;

/// <summary>
/// POSTs alerts as JSON to the configured webhook, signed with HMAC-SHA256 over the exact body bytes
/// (<c>x-llmtrace-signature: sha256=&lt;hex&gt;</c>), retried with exponential backoff on network errors, 408, 429 and
/// 5xx. A cooldown per (tenant, kind) lets the first alert of a burst through and counts the rest.
/// Cooldown state is per process.
/// </summary>
internal sealed class WebhookAlertPublisher(
    IHttpClientFactory clientFactory,
    IOptionsMonitor<AlertOptions> options,
    Tenancy.TenantStore tenants,
    Resilience.Breakers breakers,
    TimeProvider timeProvider,
    ILogger<WebhookAlertPublisher> logger) : IAlertPublisher
{
    public const string HttpClientName = "LlmTrace.Alerts";
    public const string SignatureHeader = "x-llmtrace-signature";
    public const string TokenHeader = "x-llmtrace-webhook-token";

    /// <summary>Cooldowns kept per tenant and kind; tenants come and go, so the map is bounded.</summary>
    internal const int MaxCooldowns = 10_000;

    private readonly ConcurrentDictionary<(Guid?, string), Cooldown> _cooldowns = new();

    public async Task<bool> PublishAsync(Alert alert, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        var now = timeProvider.GetUtcNow();
        // An ended cooldown with nothing suppressed is the same as none; starting over costs at most one extra alert each.
        var cooldown = BoundedMap.GetOrAdd(_cooldowns, (alert.TenantId, alert.Kind), _ => new Cooldown(), MaxCooldowns, c => c.IsOver(now));
        lock (cooldown)
        {
            if (settings.CooldownSeconds > 0 && now < cooldown.Until)
            {
                cooldown.Suppressed++;
                logger.Suppressed(alert.Kind, alert.TenantId, cooldown.Suppressed);
                return false;
            }

            cooldown.Until = now.AddSeconds(settings.CooldownSeconds);
            if (cooldown.Suppressed > 0)
            {
                alert = alert with { Details = new Dictionary<string, string>(alert.Details) { ["suppressedSinceLast"] = cooldown.Suppressed.ToString(CultureInfo.InvariantCulture) } };
                cooldown.Suppressed = 0;
            }
        }

        logger.Raised(alert.Kind, alert.Severity.ToString(), alert.TenantId, alert.Summary);
        var targets = new List<Uri>(2);
        if (IsDeliverable(settings.WebhookUrl))
        {
            targets.Add(settings.WebhookUrl!);
        }

        if (alert.TenantId is { } tenantId && await tenants.GetCachedAsync(tenantId, cancellationToken).ConfigureAwait(false) is { } tenant)
        {
            targets.AddRange(tenant.AlertWebhooks.Where(u => IsDeliverable(u) && !targets.Contains(u)));
        }

        if (targets.Count == 0)
        {
            return true;
        }

        // Targets are delivered to at the same time: one slow or failing webhook must not hold up the others.
        var body = JsonSerializer.SerializeToUtf8Bytes(alert, AlertJsonContext.Default.Alert);
        var results = await Task.WhenAll(targets.Select(target => DeliverAsync(target, alert, body, settings, cancellationToken))).ConfigureAwait(false);
        return results.All(delivered => delivered);
    }

    /// <summary>An absolute http(s) URL; an unresolved Key Vault reference binds as a relative one and is skipped.</summary>
    private static bool IsDeliverable(Uri? url) => url is { IsAbsoluteUri: true } && (url.Scheme == Uri.UriSchemeHttps || url.Scheme == Uri.UriSchemeHttp);

    /// <summary>Delivers through the target host's breaker: a webhook that keeps failing is skipped (and logged) until probed again.</summary>
    private async Task<bool> DeliverAsync(Uri target, Alert alert, byte[] body, AlertOptions settings, CancellationToken cancellationToken)
    {
        try
        {
            return await breakers.For(Resilience.Breakers.WebhookPrefix + target.Host).ExecuteAsync(
                async token => await TryDeliverAsync(target, alert, body, settings, token).ConfigureAwait(false)
                    ? true
                    : throw new HttpRequestException($"Webhook {target.Host} refused alert {alert.AlertId}."),
                cancellationToken).ConfigureAwait(false);
        }
        catch (Polly.CircuitBreaker.BrokenCircuitException)
        {
            logger.DeliverySkipped(alert.AlertId, alert.Kind, target.Host);
            return false;
        }
        catch (HttpRequestException)
        {
            return false; // Logged attempt by attempt; counted by the breaker.
        }
    }

    private async Task<bool> TryDeliverAsync(Uri target, Alert alert, byte[] body, AlertOptions settings, CancellationToken cancellationToken)
    {
        var signature = Sign(body, KeyVaultReferences.Resolved(settings.WebhookSecret));
        // The operator's webhook may be internal; a tenant's may not, and is checked again at every connection.
        var client = clientFactory.CreateClient(target == settings.WebhookUrl ? HttpClientName : WebhookTargets.TenantHttpClientName);
        for (var attempt = 1; attempt <= settings.MaxAttempts; attempt++)
        {
            var status = 0;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
                request.Headers.TryAddWithoutValidation("x-llmtrace-alert-id", alert.AlertId.ToString());
                if (signature is not null)
                {
                    request.Headers.TryAddWithoutValidation(SignatureHeader, signature);
                }

                if (KeyVaultReferences.Resolved(settings.WebhookToken) is { } token && target == settings.WebhookUrl)
                {
                    // Only to the operator's own relay: a tenant's webhook never sees the shared token.
                    request.Headers.TryAddWithoutValidation(TokenHeader, token);
                }

                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(settings.TimeoutSeconds), timeProvider);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
                using var response = await client.SendAsync(request, linked.Token).ConfigureAwait(false);
                status = (int)response.StatusCode;
                if (response.IsSuccessStatusCode)
                {
                    return true;
                }

                if (status is not (408 or 429) && status < 500)
                {
                    break; // A 4xx other than 408/429 will not get better by retrying.
                }
            }
            catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                status = 0;
            }

            logger.DeliveryFailed(alert.AlertId, attempt, settings.MaxAttempts, status);
            if (attempt < settings.MaxAttempts)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250 * Math.Pow(2, attempt - 1)), timeProvider, cancellationToken).ConfigureAwait(false);
            }
        }

        logger.DeliveryAbandoned(alert.AlertId, alert.Kind, settings.MaxAttempts);
        return false;
    }

    /// <summary><c>sha256=</c> and the lower-case hex HMAC-SHA256 of the body, or null without a secret.</summary>
    public static string? Sign(ReadOnlySpan<byte> body, string? secret)
        => string.IsNullOrEmpty(secret) ? null : "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    private sealed class Cooldown
    {
        public DateTimeOffset Until { get; set; }

        public int Suppressed { get; set; }

        public bool IsOver(DateTimeOffset now)
        {
            lock (this)
            {
                return now >= Until && Suppressed == 0;
            }
        }
    }
}
