using LlmTrace.Domain.Budgets;
using LlmTrace.Domain.Capture;
using Microsoft.Azure.Functions.Worker;

namespace LlmTrace.Functions.Budgets;

/// <summary>
/// On the schedule in the <c>LLMTRACE_BUDGET_TIMER_SCHEDULE</c> app setting (NCRONTAB, e.g. <c>0 */5 * * * *</c>):
/// closes ended budget windows and puts parked captures back on the capture queue.
/// </summary>
/// <remarks>With the in-process transport nothing is ever parked, so no replayer is registered.</remarks>
public sealed class BudgetTimerFunction(BudgetWindowCloser closer, IEnumerable<ParkedCaptureReplayer> replayers)
{
    [Function("BudgetTimer")]
    public async Task RunAsync([TimerTrigger("%LLMTRACE_BUDGET_TIMER_SCHEDULE%")] TimerInfo timer, CancellationToken cancellationToken)
    {
        await closer.CloseEndedWindowsAsync(cancellationToken).ConfigureAwait(false);
        foreach (var replayer in replayers)
        {
            await replayer.ReplayAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
