using Microsoft.Extensions.Logging;

namespace LlmTrace.Functions.Infrastructure;

/// <summary>Azure adapter events (8000–8099).</summary>
internal static partial class AzureLog
{
    [LoggerMessage(8001, LogLevel.Warning, "Trace {TraceId} could not be enqueued; parked for the timer to retry")]
    public static partial void Parked(this ILogger logger, Guid traceId, Exception exception);

    [LoggerMessage(8002, LogLevel.Error, "Trace {TraceId} could be neither enqueued nor parked")]
    public static partial void NotParked(this ILogger logger, Guid traceId, Exception exception);
}
