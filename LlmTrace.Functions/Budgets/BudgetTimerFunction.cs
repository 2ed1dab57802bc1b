using LlmTrace.Domain.Maintenance;
using Microsoft.Azure.Functions.Worker;

namespace LlmTrace.Functions.Budgets;

/// <summary>
/// On the schedule in the <c>LLMTRACE_BUDGET_TIMER_SCHEDULE</c> app setting (NCRONTAB, e.g. <c>0 */5 * * * *</c>): runs
/// <see cref="GatewayMaintenance"/> — closes ended budget windows and puts parked captures back on the capture queue.
/// Traces in Cosmos DB expire by their time to live, so there is no retention port here.
/// </summary>
public sealed class BudgetTimerFunction(GatewayMaintenance maintenance)
{
    [Function("BudgetTimer")]
    public Task RunAsync([TimerTrigger("%LLMTRACE_BUDGET_TIMER_SCHEDULE%")] TimerInfo timer, CancellationToken cancellationToken)
        => maintenance.RunAsync(cancellationToken);
}
