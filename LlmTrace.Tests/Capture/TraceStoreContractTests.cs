using LlmTrace.Domain.Capture;
using LlmTrace.Functions.Infrastructure;
using LlmTrace.SelfHost.Infrastructure;
using LlmTrace.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace LlmTrace.Tests.Capture;

/// <summary>The rules every <see cref="ITraceStore"/> keeps, run against each implementation.</summary>
public abstract class TraceStoreContractTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 5, 1, 8, 0, 0, TimeSpan.Zero);

    protected ITraceStore Store { get; set; } = null!;

    public abstract Task InitializeAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Upsert_SameTraceTwice_KeepsOneCopyWithTheLatestContent()
    {
        var trace = NewTrace(Guid.NewGuid(), 0);

        await Store.UpsertAsync([trace], CancellationToken.None);
        await Store.UpsertAsync([trace with { Response = "changed", Findings = [new Finding { Type = "pii", Severity = FindingSeverity.High, Location = "response", Detector = "security.pii" }] }], CancellationToken.None);

        var stored = await Store.GetAsync(trace.TraceId, CancellationToken.None);
        Assert.Equal("changed", stored!.Response);
        Assert.Equal(FindingSeverity.High, Assert.Single(stored.Findings).Severity);
        var page = await Store.QueryAsync(new TraceQuery { TenantId = trace.TenantId }, CancellationToken.None);
        Assert.Single(page.Items);
    }

    [Fact]
    public async Task Get_UnknownId_IsNull() => Assert.Null(await Store.GetAsync(Guid.NewGuid(), CancellationToken.None));

    [Fact]
    public async Task Query_PagesNewestFirstWithTiesBrokenByIdAndFilters()
    {
        var tenant = Guid.NewGuid();
        var traces = Enumerable.Range(0, 23).Select(i => NewTrace(tenant, i / 3)).ToList();
        await Store.UpsertAsync(traces, CancellationToken.None);
        await Store.UpsertAsync([NewTrace(Guid.NewGuid(), 0)], CancellationToken.None); // another tenant

        var seen = new List<Guid>();
        TraceCursor? after = null;
        do
        {
            var page = await Store.QueryAsync(new TraceQuery { TenantId = tenant, Limit = 5, After = after }, CancellationToken.None);
            seen.AddRange(page.Items.Select(t => t.TraceId));
            after = TraceCursor.TryDecode(page.ContinuationToken, out var next) ? next : null;
        }
        while (after is not null);

        var expected = traces.OrderByDescending(t => t.StartedAt).ThenByDescending(t => t.TraceId.ToString("N"), StringComparer.Ordinal).Select(t => t.TraceId);
        Assert.Equal(expected, seen);
        var filtered = await Store.QueryAsync(new TraceQuery { TenantId = tenant, Model = "GPT-4O", Since = Start.AddMinutes(2), Until = Start.AddMinutes(5) }, CancellationToken.None);
        Assert.Equal(traces.Where(t => t.Model == "gpt-4o" && t.StartedAt >= Start.AddMinutes(2) && t.StartedAt < Start.AddMinutes(5)).Select(t => t.TraceId).Order(), filtered.Items.Select(t => t.TraceId).Order());
        var agent = await Store.QueryAsync(new TraceQuery { TenantId = tenant, AgentId = "agent-0", Provider = "openai" }, CancellationToken.None);
        Assert.All(agent.Items, t => Assert.Equal(("agent-0", "openai"), (t.AgentId, t.Provider)));
        Assert.NotEmpty(agent.Items);
    }

    [Fact]
    public async Task Query_ByOutcomeAndFindings_KeepsOnlyMatchingCalls()
    {
        var tenant = Guid.NewGuid();
        var finding = new Finding { Type = "pii", Severity = FindingSeverity.High, Location = "request", Detector = "security.pii" };
        var ok = NewTrace(tenant, 200);
        var redirected = NewTrace(tenant, 201) with { StatusCode = 304 };
        var refused = NewTrace(tenant, 202) with { StatusCode = 429 };
        var failed = NewTrace(tenant, 203) with { StatusCode = 0, Findings = [finding] };
        var flagged = NewTrace(tenant, 204) with { Findings = [finding] };
        await Store.UpsertAsync([ok, redirected, refused, failed, flagged], CancellationToken.None);

        async Task<IEnumerable<Guid>> Ids(TraceQuery query) => (await Store.QueryAsync(query with { TenantId = tenant }, CancellationToken.None)).Items.Select(t => t.TraceId).Order();

        Assert.Equal(new[] { ok, redirected, flagged }.Select(t => t.TraceId).Order(), await Ids(new TraceQuery { Succeeded = true }));
        Assert.Equal(new[] { refused, failed }.Select(t => t.TraceId).Order(), await Ids(new TraceQuery { Succeeded = false }));
        Assert.Equal(new[] { failed, flagged }.Select(t => t.TraceId).Order(), await Ids(new TraceQuery { HasFindings = true }));
        Assert.Equal(new[] { failed.TraceId }, await Ids(new TraceQuery { HasFindings = true, Succeeded = false }));
        Assert.Equal(new[] { ok, redirected, refused }.Select(t => t.TraceId).Order(), await Ids(new TraceQuery { HasFindings = false }));
    }

    [Fact]
    public async Task Query_AcrossTenants_SeesEveryTenant()
    {
        var traces = new[] { NewTrace(Guid.NewGuid(), 100), NewTrace(Guid.NewGuid(), 101) };
        await Store.UpsertAsync(traces, CancellationToken.None);

        var page = await Store.QueryAsync(new TraceQuery { Since = Start.AddMinutes(100), Until = Start.AddMinutes(102), Limit = 10 }, CancellationToken.None);

        Assert.Equal(traces.Select(t => t.TraceId).Reverse(), page.Items.Select(t => t.TraceId));
    }

    [Fact]
    public async Task Ping_Succeeds() => await Store.PingAsync(CancellationToken.None);

    private static Trace NewTrace(Guid tenant, int minute) => new()
    {
        TraceId = Guid.NewGuid(),
        TenantId = tenant,
        AgentId = "agent-" + (minute % 2),
        Provider = minute % 2 == 0 ? "openai" : "anthropic",
        Model = minute % 2 == 0 ? "gpt-4o" : "claude-sonnet-4-5",
        Endpoint = "/v1/chat/completions",
        Method = "POST",
        StatusCode = 200,
        StartedAt = Start.AddMinutes(minute),
        Prompt = "user: hi",
        Cost = new TraceCost { Total = 0.0012m, Input = 0.001m, Output = 0.0002m, PricedAs = "gpt-4o", CatalogDate = "2026-11-01" },
        Priced = true,
    };
}

public sealed class InMemoryTraceStoreTests : TraceStoreContractTests
{
    public override Task InitializeAsync()
    {
        Store = new InMemoryTraceStore();
        return Task.CompletedTask;
    }
}

public sealed class SqliteTraceStoreTests : TraceStoreContractTests
{
    private SqliteDatabase _database = null!;

    public override async Task InitializeAsync()
    {
        _database = await TestSqlite.CreateAsync("store");
        Store = new SqliteTraceStore(_database);
    }

    public override async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task Initialize_FileFromBeforeTheFilterColumns_IsMigratedAndItsTracesFilter()
    {
        var path = Path.Combine(Path.GetTempPath(), "llmtrace-tests", $"old-{Guid.NewGuid():N}.db");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var failed = TestTraces.New() with { StatusCode = 502 };
        var flagged = TestTraces.New() with { TenantId = failed.TenantId, Findings = [new Finding { Type = "pii", Severity = FindingSeverity.Low, Location = "request", Detector = "t" }] };
        await using (var old = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=false"))
        {
            await old.OpenAsync();
            await using var create = old.CreateCommand();
            create.CommandText = "CREATE TABLE traces (trace_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, agent_id TEXT NULL, provider TEXT NOT NULL, model TEXT NULL, started_at INTEGER NOT NULL, body BLOB NOT NULL)";
            await create.ExecuteNonQueryAsync();
            foreach (var trace in new[] { failed, flagged })
            {
                await using var insert = old.CreateCommand();
                insert.CommandText = "INSERT INTO traces VALUES ($id, $tenant, NULL, 'openai', NULL, $at, $body)";
                insert.Parameters.AddWithValue("$id", trace.TraceId.ToString("N"));
                insert.Parameters.AddWithValue("$tenant", trace.TenantId.ToString("N"));
                insert.Parameters.AddWithValue("$at", trace.StartedAt.ToUnixTimeMilliseconds());
                insert.Parameters.AddWithValue("$body", System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(trace, CaptureJsonContext.Default.Trace));
                await insert.ExecuteNonQueryAsync();
            }
        }

        await using var database = new SqliteDatabase(Options.Create(new SqliteOptions { Path = path }));
        await database.InitializeAsync(CancellationToken.None);
        await database.InitializeAsync(CancellationToken.None); // a second start finds nothing to do
        var store = new SqliteTraceStore(database);

        var errors = await store.QueryAsync(new TraceQuery { TenantId = failed.TenantId, Succeeded = false }, CancellationToken.None);
        var withFindings = await store.QueryAsync(new TraceQuery { TenantId = failed.TenantId, HasFindings = true }, CancellationToken.None);
        Assert.Equal(failed.TraceId, Assert.Single(errors.Items).TraceId);
        Assert.Equal(flagged.TraceId, Assert.Single(withFindings.Items).TraceId);
    }
}

public sealed class CosmosTraceStoreTests : TraceStoreContractTests
{
    private Microsoft.Azure.Cosmos.CosmosClient _client = null!;

    public override async Task InitializeAsync()
    {
        var (client, container, options) = await CosmosEmulator.CreateContainerAsync();
        _client = client;
        Store = new CosmosTraceStore(container, Options.Create(options));
    }

    public override Task DisposeAsync()
    {
        _client.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public void ToDocument_AddsIdTtlFromTenantRetentionAndSortKey()
    {
        var tenant = Guid.NewGuid();
        var store = new CosmosTraceStore(null!, Options.Create(new CosmosOptions { RetentionDays = 90, TenantRetentionDays = { [tenant] = 7 } }));
        var trace = new Trace { TraceId = Guid.NewGuid(), TenantId = tenant, Provider = "openai", Endpoint = "/v1/x", Method = "POST", StartedAt = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123) };

        using var document = System.Text.Json.JsonDocument.Parse(store.ToDocument(trace));

        Assert.Equal(trace.TraceId.ToString(), document.RootElement.GetProperty("id").GetString());
        Assert.Equal(tenant.ToString(), document.RootElement.GetProperty("tenantId").GetString());
        Assert.Equal(7 * 86_400, document.RootElement.GetProperty("ttl").GetInt32());
        Assert.Equal($"001700000000123_{trace.TraceId:N}", document.RootElement.GetProperty("sortKey").GetString());
        using var tenantSetting = System.Text.Json.JsonDocument.Parse(store.ToDocument(trace, tenantSettingDays: 3));
        Assert.Equal(3 * 86_400, tenantSetting.RootElement.GetProperty("ttl").GetInt32()); // the tenant's own setting wins
    }
}
