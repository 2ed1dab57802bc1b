namespace LlmTrace.Domain.Alerts;

/// <summary>Sends alerts to people. Implementations apply cooldown and retry; they never throw for a delivery failure.</summary>
public interface IAlertPublisher
{
    /// <summary>True when the alert was delivered (or nothing is configured to deliver to); false when suppressed or failed.</summary>
    Task<bool> PublishAsync(Alert alert, CancellationToken cancellationToken);
}
