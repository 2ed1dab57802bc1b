using Microsoft.Extensions.Logging;

namespace LlmTrace.Domain.Alerts;

/// <summary>Alert events (6000–6099).</summary>
internal static partial class AlertsLog
{
    [LoggerMessage(6001, LogLevel.Warning, "Alert {Kind} ({Severity}) for tenant {TenantId}: {Summary}")]
    public static partial void Raised(this ILogger logger, string kind, string severity, Guid? tenantId, string summary);

    [LoggerMessage(6002, LogLevel.Debug, "Alert {Kind} for tenant {TenantId} suppressed by cooldown ({Suppressed} suppressed so far)")]
    public static partial void Suppressed(this ILogger logger, string kind, Guid? tenantId, int suppressed);

    [LoggerMessage(6003, LogLevel.Warning, "Webhook delivery of alert {AlertId} failed (attempt {Attempt} of {MaxAttempts}, status {StatusCode})")]
    public static partial void DeliveryFailed(this ILogger logger, Guid alertId, int attempt, int maxAttempts, int statusCode);

    [LoggerMessage(6004, LogLevel.Error, "Alert {AlertId} ({Kind}) could not be delivered after {MaxAttempts} attempts")]
    public static partial void DeliveryAbandoned(this ILogger logger, Guid alertId, string kind, int maxAttempts);

    [LoggerMessage(6005, LogLevel.Error, "Alert {AlertId} ({Kind}) was not sent: the webhook at {Host} keeps failing and its breaker is open")]
    public static partial void DeliverySkipped(this ILogger logger, Guid alertId, string kind, string host);
}
