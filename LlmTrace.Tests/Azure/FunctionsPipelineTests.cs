using System.Text;
using System.Text.Json;
using Azure.Storage.Queues;
using LlmTrace.Domain.Budgets;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Processing;
using LlmTrace.Domain.Proxy;
using LlmTrace.Functions;
using LlmTrace.Functions.Infrastructure;
using LlmTrace.Functions.Processing;
using LlmTrace.Functions.Proxy;
using LlmTrace.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LlmTrace.Tests.Azure;

/// <summary>
/// The Azure host end to end on Azurite, without the Functions runtime: the HTTP function streams and enqueues, each
/// queue-triggered function is called with the real dequeued message, and the state lands in Table Storage.
/// </summary>
[Collection(AzuriteQueuesCollection.Name)]
public sealed class FunctionsPipelineTests : IAsyncLifetime
{
    private FakeUpstream _upstream = null!;
    private AzureStorageClients _clients = null!;
    private IHost _host = null!;
    private Microsoft.Azure.Cosmos.CosmosClient _cosmos = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _clients = await Azurite.CreateClientsAsync(withQueues: true);
        var (cosmos, _, cosmosOptions) = await CosmosEmulator.CreateContainerAsync();
        _cosmos = cosmos;
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        var settings = Azurite.Settings(_clients);
        settings["LlmTrace:Upstreams:Default"] = _upstream.BaseAddress.ToString();
        settings["LlmTrace:Cosmos:ConnectionString"] = cosmosOptions.ConnectionString;
        settings["LlmTrace:Cosmos:Database"] = cosmosOptions.Database;
        builder.Configuration.AddInMemoryCollection(settings);
        // The emulator's client (Gateway mode, query-plan help); the production registration is skipped when one exists.
        builder.Services.AddSingleton(cosmos);
        builder.AddGateway();
        _host = builder.Build();
        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        _cosmos.Dispose();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task HttpCall_ThroughEveryQueueStage_IsPricedCountedOnceAndStored()
    {
        var key = TestKeys.NewKey();
        var context = await CallAsync(key, """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}""");
        var traceId = Guid.Parse(context.Response.Headers[GatewayProxy.TraceIdHeader]!);
        var processing = _host.Services.GetRequiredService<ProcessingFunctions>();

        var captured = await ReceiveAsync(QueueNames.Captures);
        await processing.CostAsync(captured, CancellationToken.None);
        await processing.CostAsync(captured, CancellationToken.None); // redelivered
        var priced = await ReceiveAsync(QueueNames.Anomaly);
        await ReceiveAsync(QueueNames.Anomaly); // the redelivery forwarded an identical copy
        await processing.AnomalyAsync(priced, CancellationToken.None);
        var scored = await ReceiveAsync(QueueNames.Security);
        await processing.SecurityAsync(scored, CancellationToken.None);
        await processing.SecurityAsync(scored, CancellationToken.None); // redelivered

        Assert.IsType<CosmosTraceStore>(_host.Services.GetRequiredService<ITraceStore>());
        var trace = await _host.Services.GetRequiredService<ITraceStore>().GetAsync(traceId, CancellationToken.None);
        Assert.NotNull(trace);
        Assert.Equal(0.000005625m, trace.Cost!.Total);
        Assert.Equal("hello", trace.Prompt!["user: ".Length..]);
        var totals = await _host.Services.GetRequiredService<ISpendLedger>().GetTotalsAsync(TestKeys.TenantOf(key), null, trace.StartedAt, CancellationToken.None);
        Assert.All(totals, t => Assert.Equal((0.000005625m, 18L, 1L), (t.CostUsd, t.Tokens, t.Requests)));
        // The dashboard's counters, in Table Storage: the redelivered last stage counted the call once.
        var stats = _host.Services.GetRequiredService<LlmTrace.Domain.Stats.ITrafficStatsStore>();
        Assert.IsType<TableTrafficStatsStore>(stats);
        var hour = await stats.ReadAsync(LlmTrace.Domain.Stats.TrafficStats.TenantScope(TestKeys.TenantOf(key)), LlmTrace.Domain.Stats.StatsResolution.Hour,
            trace.StartedAt.AddHours(-1), trace.StartedAt.AddHours(1), CancellationToken.None);
        var counters = Assert.Single(hour).Counters;
        Assert.Equal((1L, 5_625L), (counters.Requests, counters.NanoUsd));
    }

    [Fact]
    public async Task HttpCall_With1MiBPrompt_GoesThroughTheQueuesByClaimCheckAndTheCheckIsRemovedAtTheEnd()
    {
        var prompt = new string('x', 1024 * 1024);
        var context = await CallAsync(TestKeys.NewKey(), $$"""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"{{prompt}}"}]}""");
        var traceId = Guid.Parse(context.Response.Headers[GatewayProxy.TraceIdHeader]!);
        var processing = _host.Services.GetRequiredService<ProcessingFunctions>();

        var captured = await ReceiveAsync(QueueNames.Captures);
        Assert.True(Encoding.UTF8.GetByteCount(captured) < 1024);
        Assert.Contains("\"claimCheck\"", captured, StringComparison.Ordinal);
        await processing.CostAsync(captured, CancellationToken.None);
        await processing.AnomalyAsync(await ReceiveAsync(QueueNames.Anomaly), CancellationToken.None);
        await processing.SecurityAsync(await ReceiveAsync(QueueNames.Security), CancellationToken.None);

        var trace = await _host.Services.GetRequiredService<ITraceStore>().GetAsync(traceId, CancellationToken.None);
        Assert.Equal("user: " + prompt, trace!.Prompt);
        Assert.NotNull(trace.Cost);
        Assert.Empty(await ToListAsync(_clients.ClaimChecks.GetBlobsAsync()));
    }

    [Fact]
    public async Task Stage_MessageThatIsNotACapture_ThrowsSoItIsRetriedThenPoisonedAndStored()
    {
        var processing = _host.Services.GetRequiredService<ProcessingFunctions>();
        var poison = _host.Services.GetRequiredService<PoisonFunctions>();

        await Assert.ThrowsAsync<InvalidDataException>(() => processing.CostAsync("not a capture", CancellationToken.None));
        await poison.CapturesAsync("not a capture", "msg-1", 5, CancellationToken.None);

        var stored = Assert.Single(await ToListAsync(_clients.Poison.GetBlobsAsync()));
        Assert.Equal($"{QueueNames.Captures}/msg-1.json", stored.Name);
        var content = await _clients.Poison.GetBlobClient(stored.Name).DownloadContentAsync();
        Assert.Equal("not a capture", content.Value.Content.ToString());
    }

    [Fact]
    public async Task Enqueue_QueueUnavailable_ParksTheCaptureAndTheTimerReplaysIt()
    {
        // Same Azurite blobs, but a queue endpoint nobody listens on.
        var broken = Azurite.ConnectionString.Replace(":10101/", ":9/", StringComparison.Ordinal)
            .Replace("UseDevelopmentStorage=true", "UseDevelopmentStorage=true;DevelopmentStorageProxyUri=http://127.0.0.1:9", StringComparison.Ordinal);
        var brokenClients = new AzureStorageClients(Microsoft.Extensions.Options.Options.Create(new AzureStorageOptions
        {
            ConnectionString = broken,
            ClaimCheckContainer = _clients.ClaimChecks.Name,
            ParkedContainer = _clients.Parked.Name,
        }), new ConfigurationBuilder().Build());
        var parked = new BlobParkedCaptureStore(brokenClients);
        var failing = new StorageQueueTransport(
            brokenClients,
            new CaptureMessageCodec(new BlobClaimCheckStore(brokenClients)),
            new CaptureDelivery(parked, _host.Services.GetRequiredService<CaptureOutbox>(), NullLogger<CaptureDelivery>.Instance));
        var trace = new Trace { TraceId = Guid.NewGuid(), TenantId = Guid.NewGuid(), Provider = "openai", Endpoint = "/v1/x", Method = "POST", StartedAt = DateTimeOffset.UtcNow };

        await failing.EnqueueAsync(trace, CancellationToken.None);
        var parkedBefore = await parked.ListAsync(10, CancellationToken.None);
        var replayed = await _host.Services.GetRequiredService<ParkedCaptureReplayer>().ReplayAsync(CancellationToken.None);

        Assert.Equal(trace.TraceId, Assert.Single(parkedBefore).Trace.TraceId);
        Assert.Equal(1, replayed);
        var message = await ReceiveAsync(QueueNames.Captures);
        Assert.Equal(trace.TraceId, JsonDocument.Parse(message).RootElement.GetProperty("traceId").GetGuid());
        Assert.Empty(await parked.ListAsync(10, CancellationToken.None));
    }

    [Fact]
    public async Task SameCall_OnBothHosts_GivesTheSameTraceFieldsFindingsAndCost()
    {
        var key = TestKeys.NewKey();
        const string Body = """{"model":"gpt-4o","messages":[{"role":"system","content":"s"},{"role":"user","content":"compare"}]}""";
        var context = await CallAsync(key, Body);
        var processing = _host.Services.GetRequiredService<ProcessingFunctions>();
        await processing.CostAsync(await ReceiveAsync(QueueNames.Captures), CancellationToken.None);
        await processing.AnomalyAsync(await ReceiveAsync(QueueNames.Anomaly), CancellationToken.None);
        await processing.SecurityAsync(await ReceiveAsync(QueueNames.Security), CancellationToken.None);
        var azure = await _host.Services.GetRequiredService<ITraceStore>().GetAsync(Guid.Parse(context.Response.Headers[GatewayProxy.TraceIdHeader]!), CancellationToken.None);

        await using var selfHost = await GatewayHost.StartAsync(_upstream);
        using var http = selfHost.CreateClient();
        using var response = await http.SendAsync(Proxy.StreamingTests.Post("/v1/chat/completions", Body, ("Authorization", "Bearer " + key)));
        var local = await selfHost.WaitForTraceAsync(Proxy.StreamingTests.TraceId(response));

        // Ids, times and sizes differ by nature; everything the pipeline derives must not.
        Trace Comparable(Trace t) => t with
        {
            TraceId = Guid.Empty, StartedAt = default, DurationMs = 0, TtftMs = null, RequestBytes = 0, ResponseBytes = 0,
            ToolCalls = [], Findings = [], Segments = null,
        };
        Assert.Equal(Comparable(local), Comparable(azure!));
        Assert.Equal(local.Segments!, azure!.Segments!);
        Assert.Equal(2, local.Segments!.Count);
        Assert.Equal(local.Findings, azure!.Findings);
        Assert.Equal(local.Cost, azure.Cost);
        Assert.NotNull(local.Cost);
    }

    [Fact]
    public async Task BudgetTimer_ClosesEndedWindowsAndReplaysParkedCaptures()
    {
        var ledger = _host.Services.GetRequiredService<ISpendLedger>();
        var tenant = Guid.NewGuid();
        await ledger.ApplyAsync([new SpendEntry(Guid.NewGuid(), tenant, null, DateTimeOffset.UtcNow.AddDays(-40), 1m, 1)], TimeProvider.System, CancellationToken.None);
        var trace = new Trace { TraceId = Guid.NewGuid(), TenantId = tenant, Provider = "openai", Endpoint = "/v1/x", Method = "POST", StartedAt = DateTimeOffset.UtcNow };
        await _host.Services.GetRequiredService<IParkedCaptureStore>().ParkAsync(trace, CancellationToken.None);

        await _host.Services.GetRequiredService<LlmTrace.Functions.Budgets.BudgetTimerFunction>().RunAsync(null!, CancellationToken.None);

        Assert.DoesNotContain(await ledger.GetEndedOpenWindowsAsync(DateTimeOffset.UtcNow, 1000, CancellationToken.None), e => e.TenantId == tenant);
        Assert.Equal(trace.TraceId, JsonDocument.Parse(await ReceiveAsync(QueueNames.Captures)).RootElement.GetProperty("traceId").GetGuid());
    }

    private async Task<DefaultHttpContext> CallAsync(string key, string body)
    {
        var functions = _host.Services.GetRequiredService<ProxyFunctions>();
        var context = FunctionRequests.Create(_host.Services, "POST", "/v1/chat/completions", body, new MemoryStream());
        context.Request.Headers.Authorization = "Bearer " + key;
        await functions.OpenAIAsync(context.Request);
        Assert.Equal(200, context.Response.StatusCode);
        return context;
    }

    private Task<string> ReceiveAsync(string queue) => Azurite.ReceiveAsync(_clients, queue);

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
        {
            list.Add(item);
        }

        return list;
    }
}
