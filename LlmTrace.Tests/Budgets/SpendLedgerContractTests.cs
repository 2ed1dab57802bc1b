using LlmTrace.Domain.Budgets;
using LlmTrace.SelfHost.Infrastructure;
using LlmTrace.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace LlmTrace.Tests.Budgets;

/// <summary>The rules every <see cref="ISpendLedger"/> keeps, run against each implementation.</summary>
public abstract class SpendLedgerContractTests : IAsyncLifetime
{
    // Sunday 31 January 2027, 23:59 UTC: one minute later the hour, day, ISO week and month all end together.
    private static readonly DateTimeOffset At = new(2027, 1, 31, 23, 59, 0, TimeSpan.Zero);

    protected ISpendLedger Ledger { get; set; } = null!;

    public abstract Task InitializeAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Apply_SameTraceTwice_CountsOnce()
    {
        var tenant = Guid.NewGuid();
        var entry = new SpendEntry(Guid.NewGuid(), tenant, "agent-a", At, 0.123456789m, 100);

        var first = await Ledger.ApplyAsync([entry], TimeProvider.System, CancellationToken.None);
        var second = await Ledger.ApplyAsync([entry], TimeProvider.System, CancellationToken.None);
        var inOneBatch = await Ledger.ApplyAsync([entry with { TraceId = Guid.NewGuid() }, entry], TimeProvider.System, CancellationToken.None);

        Assert.True(first[0].Applied);
        Assert.False(second[0].Applied);
        Assert.Equal([true, false], inOneBatch.Select(a => a.Applied));
        var totals = await Ledger.GetTotalsAsync(tenant, null, At, CancellationToken.None);
        Assert.All(totals, t => Assert.Equal((0.246913578m, 200L, 2L), (t.CostUsd, t.Tokens, t.Requests)));
        var agentTotals = await Ledger.GetTotalsAsync(tenant, "agent-a", At, CancellationToken.None);
        Assert.All(agentTotals, t => Assert.Equal(0.246913578m, t.CostUsd));
    }

    [Fact]
    public async Task Apply_ReportsBeforeAndAfterForEveryWindowAndScope()
    {
        var tenant = Guid.NewGuid();
        await Ledger.ApplyAsync([new SpendEntry(Guid.NewGuid(), tenant, null, At, 1m, 10)], TimeProvider.System, CancellationToken.None);

        var result = await Ledger.ApplyAsync([new SpendEntry(Guid.NewGuid(), tenant, "bot", At, 2m, 20)], TimeProvider.System, CancellationToken.None);

        var changes = result[0].Changes;
        Assert.Equal(8, changes.Count); // 4 windows × (tenant, agent)
        var tenantDay = changes.Single(c => c.After.AgentId is null && c.After.Kind == WindowKind.Day);
        Assert.Equal((1m, 3m), (tenantDay.Before.CostUsd, tenantDay.After.CostUsd));
        var agentMonth = changes.Single(c => c.After.AgentId == "bot" && c.After.Kind == WindowKind.Month);
        Assert.Equal((0m, 2m), (agentMonth.Before.CostUsd, agentMonth.After.CostUsd));
        Assert.Equal("month-2027-01", agentMonth.After.WindowKey);
    }

    [Fact]
    public async Task Windows_AfterMidnightUtc_StartFromZeroAndEndedOnesCanBeClosed()
    {
        var tenant = Guid.NewGuid();
        await Ledger.ApplyAsync([new SpendEntry(Guid.NewGuid(), tenant, null, At, 5m, 50)], TimeProvider.System, CancellationToken.None);
        var afterMidnight = At.AddMinutes(2); // 2027-02-01T00:01Z, a Monday: new hour, day, week and month

        var fresh = await Ledger.GetTotalsAsync(tenant, null, afterMidnight, CancellationToken.None);
        var ended = (await Ledger.GetEndedOpenWindowsAsync(afterMidnight, 1000, CancellationToken.None)).Where(e => e.TenantId == tenant).ToList();
        foreach (var (tenantId, total) in ended)
        {
            await Ledger.CloseWindowAsync(tenantId, total, CancellationToken.None);
        }

        Assert.All(fresh, t => Assert.Equal(0m, t.CostUsd));
        Assert.Equal([WindowKind.Hour, WindowKind.Day, WindowKind.Week, WindowKind.Month], ended.Select(e => e.Total.Kind).Order());
        Assert.All(ended, e => Assert.Equal(5m, e.Total.CostUsd));
        Assert.DoesNotContain(await Ledger.GetEndedOpenWindowsAsync(afterMidnight, 1000, CancellationToken.None), e => e.TenantId == tenant);
    }

    [Fact]
    public async Task Closer_WithFakeClock_ClosesOnlyWindowsThatEnded()
    {
        var tenant = Guid.NewGuid();
        var time = new FakeTimeProvider(At);
        await Ledger.ApplyAsync([new SpendEntry(Guid.NewGuid(), tenant, null, At, 1m, 1)], TimeProvider.System, CancellationToken.None);
        var closer = new BudgetWindowCloser(Ledger, time, NullLogger<BudgetWindowCloser>.Instance);

        await closer.CloseEndedWindowsAsync(CancellationToken.None);
        var openBefore = await Ledger.GetEndedOpenWindowsAsync(At.AddDays(40), 1000, CancellationToken.None);
        time.Advance(TimeSpan.FromMinutes(1)); // 2027-02-01T00:00Z
        await closer.CloseEndedWindowsAsync(CancellationToken.None);
        var openAfter = await Ledger.GetEndedOpenWindowsAsync(At.AddDays(40), 1000, CancellationToken.None);

        Assert.Equal(4, openBefore.Count(e => e.TenantId == tenant));
        Assert.DoesNotContain(openAfter, e => e.TenantId == tenant);
    }
}

public sealed class InMemorySpendLedgerTests : SpendLedgerContractTests
{
    public override Task InitializeAsync()
    {
        Ledger = new InMemorySpendLedger();
        return Task.CompletedTask;
    }
}

public sealed class SqliteSpendLedgerTests : SpendLedgerContractTests
{
    private SqliteDatabase _database = null!;

    public override async Task InitializeAsync()
    {
        _database = await TestSqlite.CreateAsync("ledger");
        Ledger = new SqliteSpendLedger(_database);
    }

    public override async Task DisposeAsync() => await _database.DisposeAsync();
}
