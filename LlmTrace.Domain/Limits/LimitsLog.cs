using Microsoft.Extensions.Logging;

namespace LlmTrace.Domain.Limits;

internal static partial class LimitsLog
{
    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Trace {TraceId}: gateway key {KeyId} refused (unknown, malformed or revoked).")]
    public static partial void KeyRejected(this ILogger logger, Guid traceId, string keyId);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "Trace {TraceId}: tenant {TenantId} reached its cost cap for {Window}.")]
    public static partial void CostCapExceeded(this ILogger logger, Guid traceId, Guid tenantId, string window);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Information, Message = "Trace {TraceId}: tenant {TenantId} rate-limited on {Counter} ({Dimension}).")]
    public static partial void RateLimited(this ILogger logger, Guid traceId, Guid tenantId, string counter, string dimension);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Warning, Message = "Could not record the last use of gateway key {KeyId}.")]
    public static partial void KeyTouchFailed(this ILogger logger, string keyId, Exception exception);

    [LoggerMessage(
        EventId = 1105,
        Level = LogLevel.Error,
        Message = "Trace {TraceId}: the provider key setting {Setting} is an unresolved Key Vault reference (missing secret or no access).")]
    public static partial void UnresolvedKeyVaultReference(this ILogger logger, Guid traceId, string setting);

    [LoggerMessage(
        EventId = 1130, Level = LogLevel.Error, Message = "Trace {TraceId}: tenant {TenantId} has a hard cap and its spend could not be read ({Cause})")]
    public static partial void BudgetUnavailable(this ILogger logger, Guid traceId, Guid tenantId, string cause);
}
