using LlmTrace.Domain.Budgets;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Maintenance;
using LlmTrace.Domain.Records;
using LlmTrace.Domain.Tenancy;
using LlmTrace.Tests.Costs;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Moq;

namespace LlmTrace.Tests.Maintenance;

/// <summary>The housekeeping both hosts' timers run: every part runs, each where its port exists, and one failing part does not stop the rest.</summary>
public sealed class GatewayMaintenanceTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Run_LedgerUnavailable_StillReplaysParkedCapturesAndPurges_ThenReportsTheFailure()
    {
        var ledger = new Mock<ISpendLedger>();
        ledger.Setup(l => l.GetEndedOpenWindowsAsync(It.IsAny<DateTimeOffset>(), It.IsAny<int>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new IOException("ledger unavailable (injected)"));
        var parked = new Mock<IParkedCaptureStore>();
        parked.Setup(p => p.ListAsync(It.IsAny<int>(), It.IsAny<CancellationToken>())).ReturnsAsync([]);
        var retention = new Mock<ITraceRetention>();
        var stats = new Mock<LlmTrace.Domain.Stats.ITrafficStatsStore>();
        var tenants = new TenantStore(new InMemoryRecordStore(), new OptionsMonitorStub<TenancyOptions>(new()), _time);
        var shortLived = Guid.NewGuid();
        await tenants.CreateAsync(new Tenant { TenantId = shortLived, Name = "short", RetentionDays = 7 }, CancellationToken.None);
        await tenants.CreateAsync(new Tenant { TenantId = Guid.NewGuid(), Name = "default" }, CancellationToken.None);
        var maintenance = new GatewayMaintenance(
            new BudgetWindowCloser(ledger.Object, _time, NullLogger<BudgetWindowCloser>.Instance),
            tenants,
            _time,
            [new ParkedCaptureReplayer(parked.Object, Mock.Of<ICaptureQueue>(), NullLogger<ParkedCaptureReplayer>.Instance)],
            [retention.Object],
            stats.Object);

        var error = await Assert.ThrowsAsync<IOException>(() => maintenance.RunAsync(CancellationToken.None));

        Assert.Contains("injected", error.Message, StringComparison.Ordinal);
        parked.Verify(p => p.ListAsync(It.IsAny<int>(), It.IsAny<CancellationToken>()), Times.Once);
        retention.Verify(r => r.PurgeAsync(
            It.Is<IReadOnlyDictionary<Guid, DateTimeOffset>>(c => c.Count == 1 && c[shortLived] == _time.GetUtcNow().AddDays(-7)),
            _time.GetUtcNow(),
            It.IsAny<CancellationToken>()), Times.Once);
        stats.Verify(s => s.PruneAsync(_time.GetUtcNow(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task Run_WithoutParkingOrRetention_OnlyClosesWindows()
    {
        var ledger = new InMemorySpendLedger();
        var tenant = Guid.NewGuid();
        await ledger.ApplyAsync([new SpendEntry(Guid.NewGuid(), tenant, null, _time.GetUtcNow().AddDays(-40), 1m, 10)], TimeProvider.System, CancellationToken.None);
        var maintenance = new GatewayMaintenance(
            new BudgetWindowCloser(ledger, _time, NullLogger<BudgetWindowCloser>.Instance),
            new TenantStore(new InMemoryRecordStore(), new OptionsMonitorStub<TenancyOptions>(new()), _time),
            _time,
            [],
            [],
            new LlmTrace.Domain.Stats.InMemoryTrafficStatsStore());

        await maintenance.RunAsync(CancellationToken.None);

        Assert.Empty(await ledger.GetEndedOpenWindowsAsync(_time.GetUtcNow(), 100, CancellationToken.None));
        Assert.Equal(0, await maintenance.PurgeAsync(CancellationToken.None));
    }
}
