using LlmTrace.Domain.Anomalies;
using LlmTrace.Domain.Budgets;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Folding;
using LlmTrace.Functions.Infrastructure;
using LlmTrace.Tests.Anomalies;
using LlmTrace.Tests.Budgets;
using LlmTrace.Tests.Costs;
using LlmTrace.Tests.Infrastructure;

namespace LlmTrace.Tests.Azure;

/// <summary>The spend ledger contract against Table Storage on Azurite.</summary>
public sealed class TableSpendLedgerTests : SpendLedgerContractTests
{
    public override async Task InitializeAsync() => Ledger = new TableSpendLedger(await Azurite.CreateClientsAsync());

    [Fact]
    public async Task Apply_32ConcurrentCallsOnOneTenant_CountsEveryCallExactlyOnce()
    {
        var tenant = Guid.NewGuid();
        var at = new DateTimeOffset(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);
        var entries = Enumerable.Range(0, 32).Select(i => new SpendEntry(Guid.NewGuid(), tenant, i % 2 == 0 ? "a/b#c" : null, at, 0.001m, 10)).ToList();

        // Every call races on the same window rows (ETags), and each is delivered twice.
        await Task.WhenAll(entries.Concat(entries).Select(e => Ledger.ApplyAsync([e], TimeProvider.System, CancellationToken.None)));

        var totals = await Ledger.GetTotalsAsync(tenant, null, at, CancellationToken.None);
        Assert.All(totals, t => Assert.Equal((0.032m, 320L, 32L), (t.CostUsd, t.Tokens, t.Requests)));
        var agent = await Ledger.GetTotalsAsync(tenant, "a/b#c", at, CancellationToken.None);
        Assert.All(agent, t => Assert.Equal(16L, t.Requests));
    }
}

/// <summary>The anomaly-state contract against Table Storage on Azurite: the concurrent batches there really race (ETags).</summary>
public sealed class TableAnomalyStateStoreTests : AnomalyStateStoreContractTests
{
    public override async Task InitializeAsync() => Store = new TableAnomalyStateStore(await Azurite.CreateClientsAsync());
}
