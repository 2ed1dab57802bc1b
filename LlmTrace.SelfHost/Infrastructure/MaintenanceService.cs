using LlmTrace.Domain.Maintenance;

namespace LlmTrace.SelfHost.Infrastructure;

/// <summary>SelfHost's minute timer: runs <see cref="GatewayMaintenance"/> (ended budget windows, parked captures, retention).</summary>
internal sealed class MaintenanceService(GatewayMaintenance maintenance, TimeProvider timeProvider, ILogger<MaintenanceService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(1), timeProvider);
        do
        {
            try
            {
                await maintenance.RunAsync(stoppingToken).ConfigureAwait(false);
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
