using System.Text.Json;
using LlmTrace.Domain.Alerts;
using LlmTrace.Domain.Capture;
using Microsoft.Extensions.Logging;

namespace LlmTrace.Domain.Processing;

/// <summary>Keeps a message that failed processing too often, for inspection and replay.</summary>
public interface IPoisonStore
{
    /// <summary>Stores the raw message; returns its reference.</summary>
    Task<string> SaveAsync(string queue, string messageId, string message, CancellationToken cancellationToken);
}

/// <summary>
/// What happens to a poison message: it is stored whole (never dropped), logged with the reason, and alerted on.
/// </summary>
public sealed class PoisonHandler(IPoisonStore store, IAlertPublisher alerts, TimeProvider timeProvider, ILogger<PoisonHandler> logger)
{
    public async Task HandleAsync(string queue, string messageId, string message, long dequeueCount, CancellationToken cancellationToken)
    {
        var traceId = TryReadTraceId(message);
        var reference = await store.SaveAsync(queue, messageId, message, cancellationToken).ConfigureAwait(false);
        logger.PoisonStored(queue, traceId, dequeueCount, reference);
        await alerts.PublishAsync(new Alert
        {
            AlertId = Guid.CreateVersion7(timeProvider.GetUtcNow()),
            Kind = "poison_message",
            Severity = FindingSeverity.High,
            TraceId = traceId,
            Summary = $"A message on {queue} failed processing {dequeueCount} times and was set aside as {reference}.",
            At = timeProvider.GetUtcNow(),
            Details = new Dictionary<string, string> { ["queue"] = queue, ["reference"] = reference },
        }, cancellationToken).ConfigureAwait(false);
    }

    private static Guid? TryReadTraceId(string message)
    {
        try
        {
            using var document = JsonDocument.Parse(message);
            return document.RootElement.TryGetProperty("traceId", out var id) && id.TryGetGuid(out var traceId) ? traceId : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

internal static partial class PoisonLog
{
    [LoggerMessage(4010, LogLevel.Error, "Poison message on {Queue} (trace {TraceId}, dequeued {DequeueCount} times) stored as {Reference}")]
    public static partial void PoisonStored(this ILogger logger, string queue, Guid? traceId, long dequeueCount, string reference);
}
