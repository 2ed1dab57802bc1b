using LlmTrace.Domain.Budgets;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Tenancy;

namespace LlmTrace.Domain.Maintenance;

/// <summary>
/// The gateway's periodic housekeeping, the same on every host (SelfHost's minute timer, the Functions timer trigger):
/// close the budget windows that have ended, put parked captures back on the capture queue, delete traces past their
/// retention, and prune the dashboard counters' minute rows and applied markers. Each part runs only where its port
/// exists; a failing part does not stop the others.
/// </summary>
public sealed class GatewayMaintenance(
    BudgetWindowCloser closer,
    TenantStore tenants,
    TimeProvider timeProvider,
    IEnumerable<ParkedCaptureReplayer> replayers,
    IEnumerable<ITraceRetention> retention,
    Stats.ITrafficStatsStore stats)
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var failures = new List<Exception>();
        await TryAsync(() => closer.CloseEndedWindowsAsync(cancellationToken), failures).ConfigureAwait(false);
        foreach (var replayer in replayers)
        {
            await TryAsync(() => replayer.ReplayAsync(cancellationToken), failures).ConfigureAwait(false);
        }

        await TryAsync(() => PurgeAsync(cancellationToken), failures).ConfigureAwait(false);
        await TryAsync(() => stats.PruneAsync(timeProvider.GetUtcNow(), cancellationToken), failures).ConfigureAwait(false);
        if (failures.Count > 0)
        {
            // The caller (a timer) logs it; the next run tries again, and nothing is lost meanwhile.
            throw failures.Count == 1 ? failures[0] : new AggregateException(failures);
        }
    }

    /// <summary>Deletes traces older than their tenant's <c>retentionDays</c>, or the store's default; returns how many.</summary>
    public async Task<int> PurgeAsync(CancellationToken cancellationToken)
    {
        var deleted = 0;
        foreach (var store in retention)
        {
            var now = timeProvider.GetUtcNow();
            var cutoffs = new Dictionary<Guid, DateTimeOffset>();
            string? after = null;
            do
            {
                var (items, next) = await tenants.ListAsync(after, 500, cancellationToken).ConfigureAwait(false);
                foreach (var tenant in items)
                {
                    if (tenant.RetentionDays is { } days)
                    {
                        cutoffs[tenant.TenantId] = now.AddDays(-days);
                    }
                }

                after = next;
            }
            while (after is not null);

            deleted += await store.PurgeAsync(cutoffs, now, cancellationToken).ConfigureAwait(false);
        }

        return deleted;
    }

    private static async Task TryAsync(Func<Task> part, List<Exception> failures)
    {
        try
        {
            await part().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            failures.Add(ex);
        }
    }
}
