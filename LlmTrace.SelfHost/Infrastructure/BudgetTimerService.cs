using LlmTrace.Domain.Budgets;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Tenancy;
using Microsoft.Extensions.Options;

namespace LlmTrace.SelfHost.Infrastructure;

/// <summary>SelfHost's minute timer: closes the spend windows that have ended, and deletes traces past their retention.</summary>
internal sealed class BudgetTimerService(
    BudgetWindowCloser closer,
    ITraceStore traces,
    TenantStore tenants,
    IOptionsMonitor<SqliteOptions> options,
    TimeProvider timeProvider,
    ILogger<BudgetTimerService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(1), timeProvider);
        do
        {
            try
            {
                await closer.CloseEndedWindowsAsync(stoppingToken).ConfigureAwait(false);
                await PurgeAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The next tick tries again; nothing is lost, windows stay open until closed.
                logger.TimerFailed(ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    /// <summary>Deletes traces older than their tenant's <c>retentionDays</c>, or the store's default.</summary>
    internal async Task<int> PurgeAsync(CancellationToken cancellationToken)
    {
        if (traces is not SqliteTraceStore store)
        {
            return 0;
        }

        var now = timeProvider.GetUtcNow();
        var tenantCutoffs = new Dictionary<Guid, DateTimeOffset>();
        string? after = null;
        do
        {
            var (items, next) = await tenants.ListAsync(after, 500, cancellationToken).ConfigureAwait(false);
            foreach (var tenant in items.Where(t => t.RetentionDays is not null))
            {
                tenantCutoffs[tenant.TenantId] = now.AddDays(-tenant.RetentionDays!.Value);
            }

            after = next;
        }
        while (after is not null);

        var days = options.CurrentValue.RetentionDays;
        return await store.PurgeAsync(days > 0 ? now.AddDays(-days) : null, tenantCutoffs, cancellationToken).ConfigureAwait(false);
    }
}
