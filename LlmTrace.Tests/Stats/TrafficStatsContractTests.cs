using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Folding;
using LlmTrace.Domain.Stats;
using LlmTrace.Functions.Infrastructure;
using LlmTrace.SelfHost.Infrastructure;
using LlmTrace.Tests.Infrastructure;

namespace LlmTrace.Tests.Stats;

/// <summary>The rules every <see cref="ITrafficStatsStore"/> keeps, run against each implementation.</summary>
public abstract class TrafficStatsContractTests : IAsyncLifetime
{
    // 23:58 UTC: a few minutes later the hour and the day (a Table Storage partition) change.
    protected static readonly DateTimeOffset At = new(2027, 3, 14, 23, 58, 0, TimeSpan.Zero);

    protected ITrafficStatsStore Store { get; set; } = null!;

    public abstract Task InitializeAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    protected static Trace Call(Guid tenant, DateTimeOffset at, int status = 200, double ms = 100, decimal cost = 0.001m, string? agent = "bot", string model = "gpt-4o-mini", params FindingSeverity[] findings) => TestTraces.New() with
    {
        TenantId = tenant,
        AgentId = agent,
        Model = model,
        StartedAt = at,
        StatusCode = status,
        DurationMs = ms,
        TtftMs = ms / 4,
        PromptTokens = 10,
        CompletionTokens = 5,
        Cost = new TraceCost { Total = cost, PricedAs = model, CatalogDate = "2027-01-01" },
        Findings = [.. findings.Select(s => new Finding { Type = "prompt_injection", Severity = s, Location = "request", Detector = "test" })],
    };

    private async Task<TrafficCounters> SumAsync(string scope, StatsResolution resolution, DateTimeOffset from, DateTimeOffset to)
    {
        var sum = new TrafficCounters();
        foreach (var bucket in await Store.ReadAsync(scope, resolution, from, to, CancellationToken.None))
        {
            sum.Merge(bucket.Counters);
        }

        return sum;
    }

    [Fact]
    public async Task Apply_SameTraceAgain_CountsOnceInEveryRow()
    {
        var tenant = Guid.NewGuid();
        var first = Call(tenant, At);
        var second = Call(tenant, At.AddSeconds(10), status: 503, cost: 0.002m, findings: [FindingSeverity.High]);

        await Store.ApplyAsync([first], TimeProvider.System, CancellationToken.None);
        await Store.ApplyAsync([first], TimeProvider.System, CancellationToken.None);
        await Store.ApplyAsync([second, first, second], TimeProvider.System, CancellationToken.None);

        foreach (var resolution in new[] { StatsResolution.Minute, StatsResolution.Hour })
        {
            var counters = await SumAsync(TrafficStats.TenantScope(tenant), resolution, At.AddHours(-1), At.AddHours(1));
            Assert.Equal((2L, 0L, 1L), (counters.Requests, counters.ClientErrors, counters.ServerErrors));
            Assert.Equal((20L, 10L, 3_000_000L), (counters.PromptTokens, counters.CompletionTokens, counters.NanoUsd));
            Assert.Equal(1, counters.Findings[(int)FindingSeverity.High]);
            Assert.Equal(1, counters.FlaggedRequests);
        }

        var all = await SumAsync(TrafficStats.AllTenants, StatsResolution.Hour, At.AddHours(-1), At.AddHours(1));
        Assert.True(all.Requests >= 2);
        Assert.Equal(2, all.Tenants![tenant.ToString("D")].Requests);
    }

    [Fact]
    public async Task Read_ReturnsBucketsInRangeAscending_AcrossMidnight()
    {
        var tenant = Guid.NewGuid();
        var calls = Enumerable.Range(0, 6).Select(i => Call(tenant, At.AddMinutes(i))).ToList(); // 23:58 … 00:03
        await Store.ApplyAsync(calls, TimeProvider.System, CancellationToken.None);

        var minutes = await Store.ReadAsync(TrafficStats.TenantScope(tenant), StatsResolution.Minute, At.AddMinutes(1), At.AddMinutes(5), CancellationToken.None);
        var hours = await Store.ReadAsync(TrafficStats.TenantScope(tenant), StatsResolution.Hour, At.AddDays(-1), At.AddDays(1), CancellationToken.None);

        Assert.Equal([At.AddMinutes(1), At.AddMinutes(2), At.AddMinutes(3), At.AddMinutes(4)], minutes.Select(b => b.Start));
        Assert.All(minutes, b => Assert.Equal(1, b.Counters.Requests));
        Assert.Equal([new DateTimeOffset(2027, 3, 14, 23, 0, 0, TimeSpan.Zero), new DateTimeOffset(2027, 3, 15, 0, 0, 0, TimeSpan.Zero)], hours.Select(b => b.Start));
        Assert.Equal([2L, 4L], hours.Select(b => b.Counters.Requests));
        Assert.Empty(await Store.ReadAsync(TrafficStats.TenantScope(Guid.NewGuid()), StatsResolution.Hour, At.AddDays(-1), At.AddDays(1), CancellationToken.None));
    }

    [Fact]
    public async Task Breakdowns_InventedNames_StayBoundedAndLoseNoCount()
    {
        var tenant = Guid.NewGuid();
        var calls = Enumerable.Range(0, 80).Select(i => Call(tenant, At.AddSeconds(i % 50), agent: $"agent-{i}", model: $"model-{i}")).ToList();
        foreach (var batch in calls.Chunk(17))
        {
            await Store.ApplyAsync(batch, TimeProvider.System, CancellationToken.None);
        }

        var hour = await SumAsync(TrafficStats.TenantScope(tenant), StatsResolution.Hour, At.AddHours(-1), At.AddHours(1));

        Assert.Equal(TrafficCounters.MaxBreakdownEntries + 1, hour.Agents!.Count);
        Assert.Equal(TrafficCounters.MaxBreakdownEntries + 1, hour.Models!.Count);
        Assert.Equal(80, hour.Agents.Values.Sum(a => a.Requests));
        Assert.Equal(80 - TrafficCounters.MaxBreakdownEntries, hour.Agents[TrafficCounters.Other].Requests);
    }

    [Fact]
    public async Task Prune_DropsOldMinuteRowsAndMarkers_KeepsHoursAndRecentMarkers()
    {
        var tenant = Guid.NewGuid();
        var now = At;
        var recent = Call(tenant, now.AddDays(-1));
        var tenDays = Call(tenant, now.AddDays(-10));
        var fortyDays = Call(tenant, now.AddDays(-40));
        await Store.ApplyAsync([recent, tenDays, fortyDays], TimeProvider.System, CancellationToken.None);

        var pruned = await Store.PruneAsync(now, CancellationToken.None);
        await Store.ApplyAsync([tenDays], TimeProvider.System, CancellationToken.None); // its marker is kept: still counted once

        var scope = TrafficStats.TenantScope(tenant);
        Assert.True(pruned >= 2, $"pruned {pruned}");
        Assert.Single(await Store.ReadAsync(scope, StatsResolution.Minute, now.AddDays(-50), now, CancellationToken.None));
        var hours = await Store.ReadAsync(scope, StatsResolution.Hour, now.AddDays(-50), now, CancellationToken.None);
        Assert.Equal([1L, 1L, 1L], hours.Select(h => h.Counters.Requests));
    }

    [Fact]
    public async Task Latency_PercentilesFromStoredBins_AreWithinTenPercent()
    {
        var tenant = Guid.NewGuid();
        var durations = Enumerable.Range(1, 200).Select(i => i * 5.0).ToList(); // 5 … 1000 ms
        await Store.ApplyAsync([.. durations.Select(ms => Call(tenant, At, ms: ms))], TimeProvider.System, CancellationToken.None);

        var counters = await SumAsync(TrafficStats.TenantScope(tenant), StatsResolution.Minute, At, At.AddMinutes(1));

        Assert.InRange(LatencyHistogram.Percentile(counters.Latency, 0.5)!.Value, 500 * 0.9, 500 * 1.1);
        Assert.InRange(LatencyHistogram.Percentile(counters.Latency, 0.95)!.Value, 950 * 0.9, 950 * 1.1);
        Assert.InRange(LatencyHistogram.Percentile(counters.Ttft, 0.5)!.Value, 125 * 0.9, 125 * 1.1);
    }
}

public sealed class InMemoryTrafficStatsTests : TrafficStatsContractTests
{
    public override Task InitializeAsync()
    {
        Store = new InMemoryTrafficStatsStore();
        return Task.CompletedTask;
    }
}

public sealed class SqliteTrafficStatsTests : TrafficStatsContractTests
{
    private SqliteDatabase _database = null!;

    public override async Task InitializeAsync()
    {
        _database = await TestSqlite.CreateAsync("traffic");
        Store = new SqliteTrafficStatsStore(_database);
    }

    public override async Task DisposeAsync() => await _database.DisposeAsync();
}

public sealed class TableTrafficStatsTests : TrafficStatsContractTests
{
    private AzureStorageClients _clients = null!;

    public override async Task InitializeAsync()
    {
        _clients = await Azurite.CreateClientsAsync();
        Store = new TableTrafficStatsStore(_clients);
    }

    [Fact]
    public async Task Apply_ConcurrentInstancesAndRedeliveries_CountEveryCallExactlyOnce()
    {
        var tenant = Guid.NewGuid();
        var calls = Enumerable.Range(0, 64).Select(i => Call(tenant, At.AddSeconds(i % 30))).ToList();
        // Four instances over the same table; each batch is also delivered a second time, mixed with new calls.
        var instances = Enumerable.Range(0, 4).Select(_ => new TableTrafficStatsStore(_clients)).ToList();
        var batches = calls.Chunk(8).ToList();
        await Task.WhenAll(batches.Select((batch, i) => instances[i % 4].ApplyAsync(batch, TimeProvider.System, CancellationToken.None)));
        await Task.WhenAll(batches.Select((batch, i) => instances[(i + 1) % 4].ApplyAsync([.. batch, .. batches[(i + 1) % batches.Count]], TimeProvider.System, CancellationToken.None)));

        var minutes = await Store.ReadAsync(TrafficStats.TenantScope(tenant), StatsResolution.Minute, At, At.AddMinutes(1), CancellationToken.None);
        var all = await Store.ReadAsync(TrafficStats.AllTenants, StatsResolution.Hour, At.AddHours(-1), At.AddHours(1), CancellationToken.None);

        Assert.Equal(64, Assert.Single(minutes).Counters.Requests);
        Assert.Equal(64, all.Sum(b => b.Counters.Tenants![tenant.ToString("D")].Requests));
    }

    /// <summary>
    /// A row deleted between an attempt's read and its commit (pruned by another instance) makes the commit a conflict,
    /// not an error: nothing is written, and the next attempt counts into a fresh row.
    /// </summary>
    [Fact]
    public async Task Commit_OfARowDeletedSinceItWasRead_IsAConflictAndTheRetryCountsAfresh()
    {
        var tenant = Guid.NewGuid();
        var store = (TableTrafficStatsStore)Store;
        await store.ApplyAsync([Call(tenant, At)], TimeProvider.System, CancellationToken.None);
        var key = new StatsKey(TrafficStats.TenantScope(tenant), StatsResolution.Minute, TrafficStats.Floor(At, TimeSpan.FromMinutes(1)));
        var partition = store.PartitionOf(key);
        var read = (await store.ReadRowsAsync(partition, [key], CancellationToken.None))[key];
        await foreach (var row in _clients.Traffic.QueryAsync<global::Azure.Data.Tables.TableEntity>(e => e.PartitionKey == partition))
        {
            if (row.RowKey.StartsWith("m|", StringComparison.Ordinal))
            {
                await _clients.Traffic.DeleteEntityAsync(partition, row.RowKey, global::Azure.ETag.All);
            }
        }

        var committed = await store.TryCommitAsync(
            partition, [new RowWrite<StatsKey, TrafficCounters>(key, read.Row, read)], [new FoldMarker(Guid.NewGuid(), At, null)], CancellationToken.None);
        await store.ApplyAsync([Call(tenant, At.AddSeconds(1))], TimeProvider.System, CancellationToken.None);

        Assert.False(committed);
        var minutes = await Store.ReadAsync(TrafficStats.TenantScope(tenant), StatsResolution.Minute, At, At.AddMinutes(1), CancellationToken.None);
        Assert.Equal(1, Assert.Single(minutes).Counters.Requests);
    }
}
