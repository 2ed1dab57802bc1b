using Microsoft.Extensions.Logging;

namespace LlmTrace.Domain.Budgets;

/// <summary>
/// The budget timer's work: finds spend windows that have ended, logs their summary and marks them closed, so the next
/// window starts from zero (windows are keyed by their start, so no spend carries over).
/// </summary>
public sealed class BudgetWindowCloser(ISpendLedger ledger, TimeProvider timeProvider, ILogger<BudgetWindowCloser> logger)
{
    private const int PageSize = 500;

    /// <summary>Closes every ended window; returns how many were closed.</summary>
    public async Task<int> CloseEndedWindowsAsync(CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var closed = 0;
        while (true)
        {
            var ended = await ledger.GetEndedOpenWindowsAsync(now, PageSize, cancellationToken).ConfigureAwait(false);
            foreach (var (tenantId, total) in ended)
            {
                logger.WindowClosed(tenantId, total.AgentId ?? "*", total.WindowKey, total.CostUsd, total.Tokens, total.Requests);
                await ledger.CloseWindowAsync(tenantId, total, cancellationToken).ConfigureAwait(false);
                closed++;
            }

            if (ended.Count < PageSize)
            {
                return closed;
            }
        }
    }
}

internal static partial class BudgetsLog
{
    [LoggerMessage(
        5001, LogLevel.Information, "Window {WindowKey} closed for tenant {TenantId} agent {AgentId}: {CostUsd} USD, {Tokens} tokens, {Requests} requests")]
    public static partial void WindowClosed(this ILogger logger, Guid tenantId, string agentId, string windowKey, decimal costUsd, long tokens, long requests);
}
