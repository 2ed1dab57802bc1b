using LlmTrace.Domain.Anomalies;
using LlmTrace.Domain.Budgets;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Folding;
using LlmTrace.Functions.Infrastructure;
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

public sealed class TableAnomalyStateStoreTests
{
    [Fact]
    public async Task Apply_RedeliveredAndConcurrent_FoldsEachTraceOnceWithItsFirstFindings()
    {
        var store = new TableAnomalyStateStore(await Azurite.CreateClientsAsync());
        var detector = new AnomalyDetector(new OptionsMonitorStub<AnomalyOptions>(new AnomalyOptions { MinSamples = 20, Sigma = 4 }));
        var tenant = Guid.NewGuid();
        var start = new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero);
        var warmup = Enumerable.Range(0, 40).Select(i => Call(tenant, start.AddSeconds(i * 20), 0.01m + (i % 4 * 0.001m))).ToList();
        await Task.WhenAll(warmup.Chunk(10).Select(chunk => ExactlyOnceFold.ApplyAsync(chunk, new AnomalyFold(detector), store, TimeProvider.System, CancellationToken.None)));
        var spike = Call(tenant, start.AddHours(1), 1m);

        var first = await ExactlyOnceFold.ApplyAsync([spike], new AnomalyFold(detector), store, TimeProvider.System, CancellationToken.None);
        var again = await ExactlyOnceFold.ApplyAsync([spike, warmup[0]], new AnomalyFold(detector), store, TimeProvider.System, CancellationToken.None);

        Assert.Equal("cost_anomaly", Assert.Single(first[0]).Type);
        Assert.Equal(first[0], again[0]);
        Assert.Empty(again[1]);
    }

    private static Trace Call(Guid tenant, DateTimeOffset at, decimal cost) => new()
    {
        TraceId = Guid.NewGuid(),
        TenantId = tenant,
        Provider = "openai",
        Endpoint = "/v1/chat/completions",
        Method = "POST",
        StatusCode = 200,
        StartedAt = at,
        DurationMs = 500,
        TotalTokens = 100,
        Cost = new TraceCost { Total = cost, PricedAs = "gpt-4o", CatalogDate = "test" },
    };
}
