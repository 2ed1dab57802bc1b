using Microsoft.Extensions.Logging;

namespace LlmTrace.Domain.Costs;

/// <summary>Cost events (3000–3099).</summary>
internal static partial class CostsLog
{
    [LoggerMessage(3001, LogLevel.Information, "Pricing override {Path} loaded with {Count} models")]
    public static partial void OverrideLoaded(this ILogger logger, string path, int count);

    [LoggerMessage(3002, LogLevel.Error, "Pricing override {Path} could not be read; using the shipped catalog")]
    public static partial void OverrideUnreadable(this ILogger logger, string path, Exception exception);

    [LoggerMessage(3003, LogLevel.Warning, "No price for model {Model} ({Provider}); trace {TraceId} is unpriced")]
    public static partial void Unpriced(this ILogger logger, string? model, string provider, Guid traceId);
}
