using Microsoft.Extensions.Logging;

namespace LlmTrace.Domain.Proxy;

/// <summary>Proxy events (1000–1099). Ids, sizes, status codes and timings only: never prompt text or credentials.</summary>
internal static partial class ProxyLog
{
    [LoggerMessage(1001, LogLevel.Debug, "Trace {TraceId}: {Provider} answered {StatusCode} after {ElapsedMs} ms ({ResponseBytes} bytes)")]
    public static partial void UpstreamResponded(this ILogger logger, Guid traceId, string provider, int statusCode, long elapsedMs, long responseBytes);

    [LoggerMessage(1002, LogLevel.Warning, "Trace {TraceId}: upstream {Route} unreachable ({ErrorKind})")]
    public static partial void UpstreamUnreachable(this ILogger logger, Guid traceId, string route, string errorKind);

    [LoggerMessage(1003, LogLevel.Warning, "Trace {TraceId}: upstream {Route} sent nothing for {IdleSeconds} s; call ended with {StatusCode}")]
    public static partial void UpstreamIdleTimeout(this ILogger logger, Guid traceId, string route, int idleSeconds, int statusCode);

    [LoggerMessage(1004, LogLevel.Warning, "Trace {TraceId}: route {Route} has no upstream; set {SettingName}")]
    public static partial void UpstreamNotConfigured(this ILogger logger, Guid traceId, string route, string settingName);

    [LoggerMessage(1005, LogLevel.Information, "Trace {TraceId}: request body over the {LimitBytes}-byte limit refused")]
    public static partial void RequestTooLarge(this ILogger logger, Guid traceId, long limitBytes);

    [LoggerMessage(1013, LogLevel.Information, "Trace {TraceId}: the request body stopped arriving after {Bytes} bytes; answered 408")]
    public static partial void RequestBodyTimedOut(this ILogger logger, Guid traceId, int bytes);

    [LoggerMessage(1014, LogLevel.Warning, "Trace {TraceId}: the host's shutdown ended the call after {ResponseBytes} response bytes")]
    public static partial void EndedByShutdown(this ILogger logger, Guid traceId, long responseBytes);

    [LoggerMessage(1015, LogLevel.Warning, "Trace {TraceId}: refused with 503, the process already holds {HeldBytes} request bytes")]
    public static partial void RequestMemoryFull(this ILogger logger, Guid traceId, long heldBytes);

    [LoggerMessage(1006, LogLevel.Debug, "Trace {TraceId}: client disconnected after {ResponseBytes} response bytes; upstream call cancelled")]
    public static partial void ClientCancelled(this ILogger logger, Guid traceId, long responseBytes);

    [LoggerMessage(1007, LogLevel.Warning, "Trace {TraceId}: upstream stream broke after {ResponseBytes} bytes ({ErrorKind})")]
    public static partial void UpstreamStreamFailed(this ILogger logger, Guid traceId, long responseBytes, string errorKind);

    [LoggerMessage(1009, LogLevel.Error, "Trace {TraceId}: the call failed inside the gateway")]
    public static partial void UnexpectedFailure(this ILogger logger, Guid traceId, Exception exception);

    [LoggerMessage(1010, LogLevel.Warning, "Trace {TraceId}: request blocked by security policy ({FindingTypes})")]
    public static partial void Blocked(this ILogger logger, Guid traceId, string findingTypes);

    [LoggerMessage(1011, LogLevel.Warning, "Trace {TraceId}: stream ended early by the output monitor ({Reason})")]
    public static partial void StreamStopped(this ILogger logger, Guid traceId, string reason);

    [LoggerMessage(1012, LogLevel.Information, "Trace {TraceId}: upstream {Route} refused stream_options; the client's own body was sent instead")]
    public static partial void StreamOptionsRejected(this ILogger logger, Guid traceId, string route);

    [LoggerMessage(1008, LogLevel.Error, "Trace {TraceId}: the trace could not be captured")]
    public static partial void CaptureFailed(this ILogger logger, Guid traceId, Exception exception);

    [LoggerMessage(1016, LogLevel.Warning, "Trace {TraceId}: backend {Backend} of {Route} {Outcome}; trying the next one")]
    public static partial void BackendFailedOver(this ILogger logger, Guid traceId, string route, string backend, string outcome);

    [LoggerMessage(1017, LogLevel.Warning, "Trace {TraceId}: every backend of {Route} is rate-limited; answered 429, retry after {Seconds} s")]
    public static partial void AllBackendsCooling(this ILogger logger, Guid traceId, string route, int seconds);

    [LoggerMessage(1018, LogLevel.Error, "Trace {TraceId}: no Entra ID token for backend {Backend} of {Route}")]
    public static partial void BackendSignInFailed(this ILogger logger, Guid traceId, string route, string backend, Exception exception);
}
