using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Processing;
using LlmTrace.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace LlmTrace.Tests.Capture;

/// <summary>
/// Chaos on SelfHost, bounded for CI: 2,000 calls (a third streamed) with 10 % upstream failures (500, 429, a reset
/// mid-stream), a processing stage that fails 10 % of its attempts, and the trace store unavailable for 5 s in the
/// middle. Afterwards every call a client got a trace id for has exactly one trace, and the spend ledger equals the sum
/// of the traces' costs. (kill -9 is <see cref="CrashRecoveryTests"/>: a separate process.)
/// </summary>
public sealed class FaultInjectionTests
{
    private const int Calls = 2000;

    [Fact]
    public async Task UpstreamFailures_FlakyStage_AndAStoreOutage_LoseNoTrace_AndSpendAgrees()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var outage = new Outage();
        await using var gateway = await GatewayHost.StartAsync(
            upstream,
            new Dictionary<string, string?> { ["LlmTrace:Capture:MaxAttempts"] = "5" },
            builder =>
            {
                builder.Services.AddSingleton<ITraceProcessor>(sp => new FlakyProcessor(sp.GetRequiredService<TracePipeline>(), failureRate: 0.10));
                builder.Services.AddSingleton<ITraceStore>(sp => new UnavailableStore(sp.GetRequiredService<LlmTrace.SelfHost.Infrastructure.SqliteTraceStore>(), outage));
            });
        using var http = gateway.CreateClient();
        var key = "sk-chaos-" + Guid.NewGuid().ToString("N");
        var answered = new ConcurrentBag<Guid>();
        var unanswered = new ConcurrentBag<string>();
        var cutBeforeHeaders = 0;
        var next = 0;
        var random = new ConcurrentDictionary<int, Random>();
        var outageStarted = false;
        var workers = Enumerable.Range(0, 16).Select(worker => Task.Run(async () =>
        {
            var rng = random.GetOrAdd(worker, w => new Random(w));
            int call;
            while ((call = Interlocked.Increment(ref next)) <= Calls)
            {
                if (call == Calls / 3 && !outageStarted)
                {
                    outageStarted = true;
                    outage.Start(TimeSpan.FromSeconds(5));
                }

                var stream = call % 3 == 0;
                var roll = rng.NextDouble();
                var mode = roll < 0.033 ? "status:500" : roll < 0.066 ? "status:429" : roll < 0.10 && stream ? "reset-mid" : string.Empty;
                using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
                {
                    Content = new StringContent($$"""{"model":"gpt-4o-mini","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"chaos {{call}}"}]}""", Encoding.UTF8, "application/json"),
                };
                request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
                if (mode.Length > 0)
                {
                    request.Headers.TryAddWithoutValidation("x-fake-mode", mode);
                }

                HttpResponseMessage response;
                try
                {
                    response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException)
                {
                    if (mode == "reset-mid")
                    {
                        // The upstream reset the stream and the gateway cut the client's connection, as it must once the
                        // answer has begun; the reset can reach the client before it has read the headers. Such a call
                        // has no trace id to check, and is left out of the count.
                        Interlocked.Increment(ref cutBeforeHeaders);
                        continue;
                    }

                    unanswered.Add($"call {call} ({mode}, stream={stream}): {ex.GetType().Name}: {ex.Message} {ex.InnerException?.Message}");
                    continue;
                }

                using (response)
                {
                    answered.Add(Guid.Parse(response.Headers.GetValues("x-llmtrace-trace-id").Single()));
                    try
                    {
                        await response.Content.ReadAsByteArrayAsync();
                    }
                    catch (Exception ex) when (ex is HttpRequestException or IOException)
                    {
                        // A reset mid-stream reaches the client as a broken body; its trace id came with the headers.
                    }
                }
            }
        })).ToList();
        await Task.WhenAll(workers);

        Assert.True(unanswered.IsEmpty, string.Join(Environment.NewLine, unanswered));
        Assert.Equal(Calls, answered.Count + cutBeforeHeaders);
        Assert.True(cutBeforeHeaders <= 5, $"{cutBeforeHeaders} reset streams reached their clients before any header");
        var traces = await WaitForAllAsync(gateway, answered, TimeSpan.FromSeconds(120));
        Assert.True(outage.Refused >= Outage.MinimumRefusals, $"the store outage refused {outage.Refused} writes");
        Assert.Equal(answered.Count, traces.Count);
        Assert.Contains(traces, t => t.StatusCode == 500);
        Assert.Contains(traces, t => t.StatusCode == 429);
        // A stream the upstream reset: answered 200 and recorded with the error that ended it, or, when the reset beat
        // its headers to the gateway, answered 502.
        Assert.True(traces.Any(t => t.Error is not null && (t.StatusCode == 502 || (t.StatusCode == 200 && t.Streaming))), string.Join(", ", traces.Select(t => $"{t.StatusCode}:{t.Error}").Distinct()));

        var tenant = traces[0].TenantId;
        // Every trace of the tenant, the cut-off calls' included: the ledger counts them too.
        var all = new List<Trace>();
        string? token = null;
        do
        {
            TraceCursor? after = token is not null && TraceCursor.TryDecode(token, out var cursor) ? cursor : null;
            var page = await gateway.Store.QueryAsync(new TraceQuery { TenantId = tenant, Limit = 1000, After = after }, CancellationToken.None);
            all.AddRange(page.Items);
            token = page.ContinuationToken;
        }
        while (token is not null);

        Assert.Equal(Calls, all.Count);
        var billed = all.Where(t => t.PromptTokens is not null || t.CompletionTokens is not null).ToList();
        using var budget = JsonDocument.Parse(await http.GetStringAsync($"/api/tenants/{tenant}/budget"));
        var month = budget.RootElement.GetProperty("windows").EnumerateArray().Single(w => w.GetProperty("window").GetString() == "monthly" && w.GetProperty("agentId").ValueKind == JsonValueKind.Null);
        Assert.Equal(billed.Count, month.GetProperty("requests").GetInt64());
        Assert.Equal(Math.Round(billed.Sum(t => t.Cost?.Total ?? 0m), 6), Math.Round(month.GetProperty("spentUsd").GetDecimal(), 6));
        Assert.Empty((await new ApiClient(http).GetAsync("/api/poison")).Json.GetProperty("items").EnumerateArray());
    }

    private static async Task<List<Trace>> WaitForAllAsync(GatewayHost gateway, IEnumerable<Guid> ids, TimeSpan timeout)
    {
        var pending = ids.ToHashSet();
        var found = new List<Trace>();
        var deadline = DateTime.UtcNow + timeout;
        while (pending.Count > 0 && DateTime.UtcNow < deadline)
        {
            foreach (var id in pending.ToList())
            {
                if (await gateway.Store.GetAsync(id, CancellationToken.None) is { } trace)
                {
                    found.Add(trace);
                    pending.Remove(id);
                }
            }

            if (pending.Count > 0)
            {
                await Task.Delay(200);
            }
        }

        Assert.True(pending.Count == 0, $"{pending.Count} answered calls have no trace");
        return found;
    }

    /// <summary>
    /// A window during which the store refuses every call, as a locked or unreachable database would. It lasts its
    /// length and until it has refused <see cref="MinimumRefusals"/> writes: on a loaded machine the calls can all be
    /// answered, and processing can hold its writes, for longer than the window, and an outage nothing hit proves nothing.
    /// </summary>
    private sealed class Outage
    {
        public const int MinimumRefusals = 3;

        private long _until = long.MinValue;
        private int _refused;

        public int Refused => Volatile.Read(ref _refused);

        public void Start(TimeSpan length) => Interlocked.Exchange(ref _until, DateTime.UtcNow.Add(length).Ticks);

        public void ThrowIfDown()
        {
            var until = Interlocked.Read(ref _until);
            if (until != long.MinValue && (DateTime.UtcNow.Ticks < until || Volatile.Read(ref _refused) < MinimumRefusals))
            {
                Interlocked.Increment(ref _refused);
                throw new IOException("store unavailable (injected)");
            }
        }
    }

    private sealed class UnavailableStore(ITraceStore inner, Outage outage) : ITraceStore
    {
        public Task UpsertAsync(IReadOnlyList<Trace> traces, CancellationToken cancellationToken)
        {
            outage.ThrowIfDown();
            return inner.UpsertAsync(traces, cancellationToken);
        }

        public Task<Trace?> GetAsync(Guid traceId, CancellationToken cancellationToken) => inner.GetAsync(traceId, cancellationToken);

        public Task<TracePage> QueryAsync(TraceQuery query, CancellationToken cancellationToken) => inner.QueryAsync(query, cancellationToken);

        public Task PingAsync(CancellationToken cancellationToken) => inner.PingAsync(cancellationToken);
    }

    /// <summary>A stage that fails a tenth of its attempts, whatever the traces.</summary>
    private sealed class FlakyProcessor(ITraceProcessor inner, double failureRate) : ITraceProcessor
    {
        private readonly Random _random = new(42);
        private readonly Lock _gate = new();

        public Task ProcessAsync(IReadOnlyList<Trace> traces, CancellationToken cancellationToken)
        {
            bool fail;
            lock (_gate)
            {
                fail = _random.NextDouble() < failureRate;
            }

            return fail ? throw new TimeoutException("stage failed (injected)") : inner.ProcessAsync(traces, cancellationToken);
        }
    }
}
