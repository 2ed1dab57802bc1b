using System.ComponentModel.DataAnnotations;
using LlmTrace.Domain.Capture;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Alerts;

/// <summary>Bound from <c>LlmTrace:Alerts</c>.</summary>
public sealed class AlertOptions
{
    public const string SectionName = "LlmTrace:Alerts";

    /// <summary>Where alerts are POSTed: a Logic Apps HTTP trigger or any URL. Unset: alerts are only logged.</summary>
    public Uri? WebhookUrl { get; set; }

    /// <summary>Key for the <c>x-llmtrace-signature: sha256=…</c> HMAC over the body. Strongly recommended.</summary>
    public string? WebhookSecret { get; set; }

    /// <summary>
    /// Sent as-is in <c>x-llmtrace-webhook-token</c> to the global webhook only, for receivers that cannot compute an
    /// HMAC (the Logic App relay compares it with its own copy). Keep it different from <see cref="WebhookSecret"/>.
    /// </summary>
    public string? WebhookToken { get; set; }

    /// <summary>Findings at or above this severity raise an alert.</summary>
    public FindingSeverity MinimumSeverity { get; set; } = FindingSeverity.High;

    /// <summary>One alert per (tenant, kind) per this many seconds; the rest of a burst is counted, not sent.</summary>
    [Range(0, 86_400)]
    public int CooldownSeconds { get; set; } = 300;

    [Range(1, 10)]
    public int MaxAttempts { get; set; } = 4;

    [Range(1, 120)]
    public int TimeoutSeconds { get; set; } = 10;

    /// <summary>
    /// Let tenants register http or private-network webhooks (loopback, 10/8, 192.168/16, …). Off by default: a tenant
    /// must not make the gateway call into its own network.
    /// </summary>
    public bool AllowPrivateTenantWebhooks { get; set; }

    /// <summary>Public base URL of the gateway, used to build trace links (e.g. https://llmtrace.contoso.com).</summary>
    public Uri? PublicBaseUrl { get; set; }
}

[OptionsValidator]
internal sealed partial class AlertOptionsValidator : IValidateOptions<AlertOptions>;
