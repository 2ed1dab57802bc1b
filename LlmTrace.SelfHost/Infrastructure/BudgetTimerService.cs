using LlmTrace.Domain.Budgets;

namespace LlmTrace.SelfHost.Infrastructure;

/// <summary>SelfHost's budget timer: every minute, closes the spend windows that have ended.</summary>
internal sealed class BudgetTimerService(BudgetWindowCloser closer, TimeProvider timeProvider, ILogger<BudgetTimerService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(1), timeProvider);
        do
        {
            try
            {
                await closer.CloseEndedWindowsAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The next tick tries again; nothing is lost, windows stay open until closed.
                logger.TimerFailed(ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
