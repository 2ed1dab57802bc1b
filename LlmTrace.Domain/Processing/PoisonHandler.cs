using System.Text.Json;
using LlmTrace.Domain.Alerts;
using LlmTrace.Domain.Capture;
using Microsoft.Extensions.Logging;

namespace LlmTrace.Domain.Processing;

/// <summary>A message set aside after failing processing too often.</summary>
/// <param name="Reference">Where the store keeps it; pass it back to read, replay or remove it.</param>
/// <param name="Queue">The queue (or <see cref="PoisonReplayer.InProcessQueue"/>) it failed on.</param>
public sealed record PoisonEntry(string Reference, string Queue, string MessageId, DateTimeOffset StoredAt, string Message);

/// <summary>Keeps a message that failed processing too often, for inspection and replay.</summary>
public interface IPoisonStore
{
    /// <summary>Stores the raw message; returns its reference.</summary>
    Task<string> SaveAsync(string queue, string messageId, string message, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="max"/> entries, oldest first.</summary>
    Task<IReadOnlyList<PoisonEntry>> ListAsync(int max, CancellationToken cancellationToken);

    Task<PoisonEntry?> GetAsync(string reference, CancellationToken cancellationToken);

    Task RemoveAsync(string reference, CancellationToken cancellationToken);
}

/// <summary>
/// Puts a poison message back where it failed: a trace of the in-process queue back on the capture queue, a stage
/// message back on its stage queue. It leaves the store only once it is queued again.
/// </summary>
public sealed class PoisonReplayer(IPoisonStore store, ICaptureQueue captures, IEnumerable<IStageQueue> stageQueues)
{
    /// <summary>The queue name of traces set aside by the in-process capture consumer.</summary>
    public const string InProcessQueue = "in-process";

    /// <summary>False when there is no such entry.</summary>
    public async Task<bool> ReplayAsync(string reference, CancellationToken cancellationToken)
    {
        var entry = await store.GetAsync(reference, cancellationToken).ConfigureAwait(false);
        if (entry is null)
        {
            return false;
        }

        if (entry.Queue == InProcessQueue)
        {
            var trace = JsonSerializer.Deserialize(entry.Message, CaptureJsonContext.Default.Trace)
                ?? throw new InvalidOperationException($"Poison entry {reference} holds no trace.");
            await captures.EnqueueAsync(trace, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var stage = entry.Queue switch
            {
                QueueNames.Captures => "cost",
                QueueNames.Anomaly => "anomaly",
                QueueNames.Security => "security",
                _ => throw new InvalidOperationException($"Poison entry {reference} came from an unknown queue."),
            };
            var queue = stageQueues.FirstOrDefault() ?? throw new InvalidOperationException("This host has no stage queues.");
            await queue.SendAsync(stage, entry.Message, cancellationToken).ConfigureAwait(false);
        }

        await store.RemoveAsync(reference, cancellationToken).ConfigureAwait(false);
        return true;
    }
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
