using System.Collections.Concurrent;
using LlmTrace.Domain.Budgets;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Processing;
using LlmTrace.Domain.Proxy;
using LlmTrace.Functions;
using LlmTrace.Functions.Processing;
using LlmTrace.Functions.Proxy;
using LlmTrace.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace LlmTrace.Tests.Functions;

/// <summary>
/// Chaos on the Azure host, bounded for CI, with the Functions runtime's queue trigger played by
/// <see cref="QueueTriggerDriver"/>: 2,000 calls through the HTTP function (a third streamed) with 10 % upstream
/// failures, every processing stage failing 10 % of its attempts (half of them after doing their work, so redelivery
/// meets work already done), and the storage account (an Azurite of the test's own) killed for 10 s in the middle —
/// longer than the SDK's retries, so captures must be parked or held. Afterwards every call answered with a trace id
/// has exactly one trace in Cosmos DB and the Table Storage spend ledger equals the traces' costs.
/// </summary>
public sealed class FunctionsFaultInjectionTests(ITestOutputHelper output)
{
    private const int Calls = 2000;

    [Fact]
    public async Task UpstreamFailures_FlakyStages_AndAStorageOutage_LoseNoTrace_AndSpendAgrees()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await using var azurite = await AzuriteProcess.StartNewAsync();
        var (cosmos, _, cosmosOptions) = await CosmosEmulator.CreateContainerAsync();
        using var cosmosClient = cosmos;
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        var logs = new CapturedLogs();
        builder.Logging.AddProvider(logs).SetMinimumLevel(LogLevel.Warning);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["LlmTrace:Upstreams:Default"] = upstream.BaseAddress.ToString(),
            ["LlmTrace:Storage:ConnectionString"] = azurite.ConnectionString,
            ["LlmTrace:Cosmos:ConnectionString"] = cosmosOptions.ConnectionString,
            ["LlmTrace:Cosmos:Database"] = cosmosOptions.Database,
            ["LlmTrace:Capture:OutboxRetrySeconds"] = "1",
        });
        builder.Services.AddSingleton(cosmos);
        builder.AddGateway();
        using var host = builder.Build();
        await host.StartAsync();
        var services = host.Services;

        var processing = services.GetRequiredService<ProcessingFunctions>();
        var poison = services.GetRequiredService<PoisonFunctions>();
        var flaky = new FlakyStages(failureRate: 0.10);
        var driver = new QueueTriggerDriver(services.GetRequiredService<LlmTrace.Functions.Infrastructure.AzureStorageClients>().Queues);
        driver.Listen(QueueNames.Captures, (m, ct) => flaky.RunAsync(m.DequeueCount, () => processing.CostAsync(m.Body.ToString(), ct)));
        driver.Listen(QueueNames.Anomaly, (m, ct) => flaky.RunAsync(m.DequeueCount, () => processing.AnomalyAsync(m.Body.ToString(), ct)));
        driver.Listen(QueueNames.Security, (m, ct) => flaky.RunAsync(m.DequeueCount, () => processing.SecurityAsync(m.Body.ToString(), ct)));
        driver.Listen(QueueNames.Captures + QueueNames.PoisonSuffix, (m, ct) => poison.CapturesAsync(m.Body.ToString(), m.MessageId, m.DequeueCount, ct));
        driver.Listen(QueueNames.Anomaly + QueueNames.PoisonSuffix, (m, ct) => poison.AnomalyAsync(m.Body.ToString(), m.MessageId, m.DequeueCount, ct));
        driver.Listen(QueueNames.Security + QueueNames.PoisonSuffix, (m, ct) => poison.SecurityAsync(m.Body.ToString(), m.MessageId, m.DequeueCount, ct));

        // The timer (every 5 minutes in production; every 2 s here) puts parked captures back on the queue.
        using var stopTimer = new CancellationTokenSource();
        var timer = RunTimerAsync(services.GetRequiredService<LlmTrace.Functions.Budgets.BudgetTimerFunction>(), TimeSpan.FromSeconds(2), stopTimer.Token);

        var proxy = services.GetRequiredService<ProxyFunctions>();
        var key = TestKeys.NewKey();
        var answered = new ConcurrentBag<Guid>();
        var statuses = new ConcurrentBag<int>();
        var calls = new ConcurrentDictionary<Guid, string>();
        var next = 0;
        Task? outage = null;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var workers = Enumerable.Range(0, 16).Select(worker => Task.Run(async () =>
        {
            var rng = new Random(worker);
            int call;
            while ((call = Interlocked.Increment(ref next)) <= Calls)
            {
                if (call == Calls / 3)
                {
                    outage = Task.Run(async () =>
                    {
                        calls[Guid.Empty] = $"outage from {DateTime.UtcNow:HH:mm:ss.fff}";
                        azurite.Stop();
                        await Task.Delay(TimeSpan.FromSeconds(10));
                        await azurite.StartAsync();
                        calls[Guid.NewGuid()] = $"outage to {DateTime.UtcNow:HH:mm:ss.fff}";
                    });
                }

                var stream = call % 3 == 0;
                var roll = rng.NextDouble();
                var mode = roll < 0.033 ? "status:500" : roll < 0.066 ? "status:429" : roll < 0.10 && stream ? "reset-mid" : string.Empty;
                var context = FunctionRequests.Create(
                    services,
                    "POST",
                    "/v1/chat/completions",
                    $$"""{"model":"gpt-4o-mini","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"chaos {{call}}"}]}""",
                    new MemoryStream());
                context.Request.Headers.Authorization = "Bearer " + key;
                if (mode.Length > 0)
                {
                    context.Request.Headers["x-fake-mode"] = mode;
                }

                var began = DateTime.UtcNow;
                await proxy.OpenAIAsync(context.Request);
                statuses.Add(context.Response.StatusCode);
                calls[Guid.Parse(context.Response.Headers[GatewayProxy.TraceIdHeader]!)] = $"call {call} {mode} stream={stream} status={context.Response.StatusCode} began {began:HH:mm:ss.fff} took {(DateTime.UtcNow - began).TotalMilliseconds:F0} ms";
                answered.Add(Guid.Parse(context.Response.Headers[GatewayProxy.TraceIdHeader]!));
            }
        })).ToList();
        await Task.WhenAll(workers);
        await outage!;

        Assert.Equal(Calls, answered.Count);
        output.WriteLine($"calls answered in {clock.Elapsed.TotalSeconds:F1} s");
        var store = services.GetRequiredService<ITraceStore>();
        var traces = await WaitForAllAsync(store, answered, TimeSpan.FromSeconds(240), logs, calls);
        output.WriteLine($"all traces stored after {clock.Elapsed.TotalSeconds:F1} s; {driver.Failures} failed attempts, {flaky.Failed} injected");
        await driver.DisposeAsync();
        await stopTimer.CancelAsync();
        await timer;

        Assert.Equal(Calls, traces.Count);
        Assert.True(flaky.Failed > 0 && driver.Failures >= flaky.Failed, $"{flaky.Failed} injected, {driver.Failures} failures seen");
        Assert.Equal(0, driver.Poisoned);
        Assert.Contains(traces, t => t.StatusCode == 500);
        Assert.Contains(traces, t => t.StatusCode == 429);
        var tenant = traces[0].TenantId;
        var billed = traces.Where(t => t.PromptTokens is not null || t.CompletionTokens is not null).ToList();
        var totals = await services.GetRequiredService<ISpendLedger>().GetTotalsAsync(tenant, null, traces.Max(t => t.StartedAt), CancellationToken.None);
        var month = totals.Single(t => t.Kind == WindowKind.Month && t.AgentId is null);
        Assert.Equal(billed.Count, month.Requests);
        Assert.Equal(Math.Round(billed.Sum(t => t.Cost?.Total ?? 0m), 6), Math.Round(month.CostUsd, 6));
        Assert.Equal(0, services.GetRequiredService<CaptureOutbox>().Count);
        await host.StopAsync();
    }

    private static async Task RunTimerAsync(LlmTrace.Functions.Budgets.BudgetTimerFunction function, TimeSpan every, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(every, stop);
                await function.RunAsync(null!, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is global::Azure.RequestFailedException or HttpRequestException or AggregateException or IOException)
            {
                // Storage down: the runtime logs the failed invocation and the next tick tries again.
            }
        }
    }

    private static async Task<List<Trace>> WaitForAllAsync(ITraceStore store, IEnumerable<Guid> ids, TimeSpan timeout, CapturedLogs logs, ConcurrentDictionary<Guid, string> calls)
    {
        var pending = ids.ToHashSet();
        var found = new List<Trace>();
        var deadline = DateTime.UtcNow + timeout;
        while (pending.Count > 0 && DateTime.UtcNow < deadline)
        {
            foreach (var id in pending.ToList())
            {
                if (await store.GetAsync(id, CancellationToken.None) is not { } trace)
                {
                    break; // still being processed: look again later, without loading the emulator with reads meanwhile
                }

                found.Add(trace);
                pending.Remove(id);
            }

            if (pending.Count > 0)
            {
                await Task.Delay(500);
            }
        }

        Assert.True(pending.Count == 0, $"{pending.Count} answered calls have no trace: " + string.Join("; ", pending.Take(20).Select(p => calls[p])) + " " + string.Join("; ", calls.Values.Where(v => v.StartsWith("outage", StringComparison.Ordinal))) + "; log: " + string.Join(Environment.NewLine, logs.Lines.Where(l => pending.Any(p => l.Contains(p.ToString(), StringComparison.Ordinal)) || !l.Contains("Trace ", StringComparison.Ordinal)).Take(30)));
        return found;
    }

    /// <summary>
    /// A stage that fails a tenth of its attempts: half before its work, half after it (the runtime then redelivers a
    /// message whose effects already happened). It never fails a message past its third delivery, so the 10 % cannot by
    /// chance add up to five straight failures and poison a message: a poisoned message here means the gateway failed.
    /// </summary>
    private sealed class FlakyStages(double failureRate)
    {
        private readonly Random _random = new(7);
        private readonly Lock _gate = new();
        private int _failed;

        public int Failed => Volatile.Read(ref _failed);

        public async Task RunAsync(long dequeueCount, Func<Task> stage)
        {
            double roll;
            lock (_gate)
            {
                roll = _random.NextDouble();
            }

            var fail = dequeueCount <= 3 && roll < failureRate;
            if (fail && roll < failureRate / 2)
            {
                Interlocked.Increment(ref _failed);
                throw new TimeoutException("stage failed before its work (injected)");
            }

            await stage();
            if (fail)
            {
                Interlocked.Increment(ref _failed);
                throw new TimeoutException("stage failed after its work (injected)");
            }
        }
    }
}
