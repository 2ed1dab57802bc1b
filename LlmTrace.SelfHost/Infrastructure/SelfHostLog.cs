namespace LlmTrace.SelfHost.Infrastructure;

/// <summary>SelfHost events (9000–9099).</summary>
internal static partial class SelfHostLog
{
    [LoggerMessage(9001, LogLevel.Information, "Traces are stored in SQLite at {FullPath} (LlmTrace__Sqlite__Path={ConfiguredPath})")]
    public static partial void DataLocation(this ILogger logger, string fullPath, string configuredPath);

    [LoggerMessage(9002, LogLevel.Error, "The budget timer failed; it runs again in a minute")]
    public static partial void TimerFailed(this ILogger logger, Exception exception);
}
