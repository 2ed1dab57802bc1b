using Microsoft.Extensions.Logging;

namespace LlmTrace.Domain.Capture;

/// <summary>Capture events (1100–1199).</summary>
internal static partial class CaptureLog
{
    [LoggerMessage(1101, LogLevel.Warning, "Writing {Count} traces failed (attempt {Attempt}); retrying in {DelayMs} ms")]
    public static partial void StoreWriteFailed(this ILogger logger, int count, int attempt, long delayMs, Exception exception);

    [LoggerMessage(1102, LogLevel.Information, "Capture queue drained on shutdown: {Count} traces written")]
    public static partial void Drained(this ILogger logger, int count);

    [LoggerMessage(1104, LogLevel.Information, "{Count} parked captures were put back on the capture queue")]
    public static partial void Replayed(this ILogger logger, int count);

    [LoggerMessage(1103, LogLevel.Error, "Shutdown drain timed out with {Remaining} traces still queued")]
    public static partial void DrainTimedOut(this ILogger logger, int remaining);

    [LoggerMessage(1105, LogLevel.Warning, "{Count} traces from the capture journal of the previous run are processed again")]
    public static partial void JournalRecovered(this ILogger logger, int count);

    [LoggerMessage(1106, LogLevel.Warning, "Capture journal segment {Segment} ends in a torn record (a crash mid-write); the records before it were recovered")]
    public static partial void JournalTornRecord(this ILogger logger, string segment);

    [LoggerMessage(1107, LogLevel.Error, "Writing {Count} traces to the capture journal failed; they go on unjournaled")]
    public static partial void JournalWriteFailed(this ILogger logger, int count, Exception exception);

    [LoggerMessage(1109, LogLevel.Error, "Trace {TraceId} was queued without being journaled: a crash before it is stored would lose it")]
    public static partial void JournalSkipped(this ILogger logger, Guid traceId);

    [LoggerMessage(1108, LogLevel.Warning, "Capture journal segment {Segment} could not be deleted")]
    public static partial void JournalDeleteFailed(this ILogger logger, string segment, Exception exception);

    [LoggerMessage(1110, LogLevel.Warning, "Trace {TraceId} could be neither queued nor parked; it is held in memory and retried")]
    public static partial void CaptureHeld(this ILogger logger, Guid traceId);

    [LoggerMessage(1111, LogLevel.Information, "{Count} held captures reached storage; {Remaining} still held")]
    public static partial void OutboxDelivered(this ILogger logger, int count, int remaining);

    [LoggerMessage(1113, LogLevel.Warning, "Capture processing runs on its own thread, but this platform would not lower its priority: it competes with request handling")]
    public static partial void ProcessingPriorityUnchanged(this ILogger logger);

    [LoggerMessage(1112, LogLevel.Critical, "Trace {TraceId} is lost: {Reason}")]
    public static partial void CaptureLost(this ILogger logger, Guid traceId, string reason);
}
