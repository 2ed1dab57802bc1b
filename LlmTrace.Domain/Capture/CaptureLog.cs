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
}
