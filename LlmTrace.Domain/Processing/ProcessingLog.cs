using Microsoft.Extensions.Logging;

namespace LlmTrace.Domain.Processing;

/// <summary>Processing events (4000–4099).</summary>
internal static partial class ProcessingLog
{
    [LoggerMessage(4001, LogLevel.Debug, "Trace {TraceId} was already applied to the {What}; not counted again")]
    public static partial void AlreadyApplied(this ILogger logger, Guid traceId, string what);

    [LoggerMessage(4002, LogLevel.Error, "Analyzer {Analyzer} failed on trace {TraceId}; its findings are missing")]
    public static partial void AnalyzerFailed(this ILogger logger, string analyzer, Guid traceId, Exception exception);
}
