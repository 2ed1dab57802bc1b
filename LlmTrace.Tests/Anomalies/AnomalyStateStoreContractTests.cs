using LlmTrace.Domain.Anomalies;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Folding;
using LlmTrace.SelfHost.Infrastructure;
using LlmTrace.Tests.Costs;
using LlmTrace.Tests.Infrastructure;

namespace LlmTrace.Tests.Anomalies;

/// <summary>The rules every <see cref="IAnomalyStateStore"/> keeps under <see cref="ExactlyOnceFold"/>, run against each adapter.</summary>
public abstract class AnomalyStateStoreContractTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 11, 26, 9, 0, 0, TimeSpan.Zero);
    private readonly AnomalyFold _fold = new(new AnomalyDetector(new OptionsMonitorStub<AnomalyOptions>(new AnomalyOptions { MinSamples = 20, Sigma = 4 })));

    protected IAnomalyStateStore Store { get; set; } = null!;

    public abstract Task InitializeAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Spike_IsFlaggedOnce_AndRedeliveriesGetTheirFirstFindingsWithoutChangingTheState()
    {
        var tenant = Guid.NewGuid();
        var warmup = Enumerable.Range(0, 40).Select(i => Call(tenant, Start.AddSeconds(i * 20), 0.01m + (i % 4 * 0.001m))).ToList();
        var reference = new InMemoryAnomalyStateStore();
        foreach (var batch in warmup.Chunk(10))
        {
            await ApplyAsync(Store, batch);
            await ApplyAsync(reference, batch);
        }

        var spike = Call(tenant, Start.AddHours(1), 1m);
        var first = await ApplyAsync(Store, spike);
        var again = await ApplyAsync(Store, spike, warmup[0], spike);
        await ApplyAsync(reference, spike);

        Assert.Equal("cost_anomaly", Assert.Single(first[0]).Type);
        Assert.Equal(first[0], again[0]);
        Assert.Empty(again[1]);
        Assert.Equal(first[0], again[2]);
        Assert.Equal(await StateAsync(reference, tenant), await StateAsync(Store, tenant)); // the redeliveries changed nothing
    }

    [Fact]
    public async Task ConcurrentBatchesWithRedeliveries_FoldEveryTraceExactlyOnce_PerTenant()
    {
        var (a, b) = (Guid.NewGuid(), Guid.NewGuid());
        var calls = Enumerable.Range(0, 48).Select(i => Call(i % 3 == 0 ? b : a, Start.AddSeconds(i), 0.01m)).ToList();
        var batches = calls.Chunk(6).ToList();

        // Every batch is delivered twice, the second time with its neighbour, all at once.
        await Task.WhenAll(batches.Select((batch, i) => Task.Run(() => ApplyAsync(Store, [.. batch, .. batches[(i + 1) % batches.Count]]))));

        Assert.Equal(32, (await StateAsync(Store, a))!.Cost.Count);
        Assert.Equal(16, (await StateAsync(Store, b))!.Cost.Count);
    }

    private Task<IReadOnlyList<IReadOnlyList<Finding>>> ApplyAsync(IAnomalyStateStore store, params Trace[] traces)
        => ExactlyOnceFold.ApplyAsync(traces, _fold, store, TimeProvider.System, CancellationToken.None);

    /// <summary>A tenant's stored state, read through the port.</summary>
    private static async Task<AnomalyState?> StateAsync(IAnomalyStateStore store, Guid tenant)
    {
        AnomalyState? state = null;
        await store.RunAsync(
            async session => state = (await session.ReadRowsAsync(store.PartitionOf(tenant), [tenant], CancellationToken.None)).GetValueOrDefault(tenant).Row,
            CancellationToken.None);
        return state;
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

public sealed class InMemoryAnomalyStateStoreTests : AnomalyStateStoreContractTests
{
    public override Task InitializeAsync()
    {
        Store = new InMemoryAnomalyStateStore();
        return Task.CompletedTask;
    }
}

public sealed class SqliteAnomalyStateStoreTests : AnomalyStateStoreContractTests
{
    private SqliteDatabase _database = null!;

    public override async Task InitializeAsync()
    {
        _database = await TestSqlite.CreateAsync("anomaly");
        Store = new SqliteAnomalyStateStore(_database);
    }

    public override async Task DisposeAsync() => await _database.DisposeAsync();
}
