using OpenTelemetry;
using OpenTelemetry.Trace;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using LlmTrace.SelfHost;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace LlmTrace.Bench;

/// <summary>
/// Load straight at a loopback upstream and through the gateway, alternating rounds so both see the same machine state.
/// Added latency = gateway percentile − direct percentile, from the same run.
/// </summary>
internal static class ProxyOverheadBenchmark
{
    private const string RequestBody = """{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello in five words."}]}""";
    private const string StreamingRequestBody = """{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Say hello in five words."}]}""";

    private static readonly byte[] JsonResponse = Encoding.UTF8.GetBytes(
        """{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there, nice to meet.","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":24,"completion_tokens":7,"total_tokens":31}}""");

    private static readonly byte[] SseResponse = Encoding.UTF8.GetBytes(string.Concat(
        Enumerable.Range(0, 8).Select(i => $"data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"w{i} \"}},\"finish_reason\":null}}],\"usage\":null}}\n\n"))
        + "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":8,\"total_tokens\":20}}\n\ndata: [DONE]\n\n");

    public static async Task RunAsync(BenchOptions options)
    {
        await using var upstream = await StartUpstreamAsync();
        var (gateway, gatewayAddress) = await StartGatewayAsync(upstream.Address, [], builder =>
        {
            if (options.MemoryStore)
            {
                // Diagnostic only: isolates the proxy and capture path from SQLite's write cost.
                builder.Services.AddSingleton<LlmTrace.Domain.Capture.ITraceStore>(new DiscardingTraceStore());
            }
        });
        await using var yarp = await StartYarpAsync(upstream.Address);

        var body = options.Streaming ? StreamingRequestBody : RequestBody;
        Console.WriteLine($"# Proxy overhead ({(options.Streaming ? "streaming SSE" : "JSON")} chat completion), {Environment.ProcessorCount} cores, {options.Seconds} s per measurement, {options.Rounds} rounds each");
        var rows = new List<string>();
        foreach (var concurrency in options.Concurrency)
        {
            var direct = new List<Measurement>();
            var viaYarp = new List<Measurement>();
            var viaGateway = new List<Measurement>();
            await MeasureAsync(upstream.Address, body, concurrency, TimeSpan.FromSeconds(2)); // warm-up
            await MeasureAsync(yarp.Address, body, concurrency, TimeSpan.FromSeconds(2));
            await MeasureAsync(gatewayAddress, body, concurrency, TimeSpan.FromSeconds(2));
            for (var round = 0; round < options.Rounds; round++)
            {
                direct.Add(await MeasureAsync(upstream.Address, body, concurrency, TimeSpan.FromSeconds(options.Seconds)));
                viaYarp.Add(await MeasureAsync(yarp.Address, body, concurrency, TimeSpan.FromSeconds(options.Seconds)));
                viaGateway.Add(await MeasureAsync(gatewayAddress, body, concurrency, TimeSpan.FromSeconds(options.Seconds)));
            }

            var d = Measurement.Merge(direct);
            var y = Measurement.Merge(viaYarp);
            var g = Measurement.Merge(viaGateway);
            foreach (var (name, m) in new[] { ("YARP (bare proxy)", y), (options.MemoryStore ? "LlmTrace (capture, store discards)" : "LlmTrace (capture to SQLite)", g) })
            {
                var row = string.Create(CultureInfo.InvariantCulture,
                    $"| {concurrency} | {name} | {d.Percentile(50):F3} | {m.Percentile(50):F3} | **{m.Percentile(50) - d.Percentile(50):F3}** | {d.Percentile(99):F3} | {m.Percentile(99):F3} | **{m.Percentile(99) - d.Percentile(99):F3}** | {d.RequestsPerSecond:F0} | {m.RequestsPerSecond:F0} | {m.RequestsPerSecond / d.RequestsPerSecond:F2} | {m.Errors} |");
                rows.Add(row);
                Console.WriteLine(row);
            }
        }

        await gateway.StopAsync();
        await gateway.DisposeAsync();

        var table = new StringBuilder()
            .AppendLine("| clients | through | direct p50 ms | proxied p50 ms | added p50 ms | direct p99 ms | proxied p99 ms | added p99 ms | direct req/s | proxied req/s | throughput ratio | errors |")
            .AppendLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        rows.ForEach(r => table.AppendLine(r));
        Console.WriteLine();
        Console.WriteLine(table);
        if (options.MarkdownPath is not null)
        {
            await File.WriteAllTextAsync(options.MarkdownPath + ".table.md", table.ToString());
        }
    }

    /// <summary>
    /// The capture journal's cost: three SelfHost gateways of this build (journal off, Process, Machine) against one
    /// upstream, measured in turns in the same run, each against the direct baseline.
    /// </summary>
    public static async Task RunJournalAsync(BenchOptions options)
    {
        await using var upstream = await StartUpstreamAsync();
        var gateways = new List<(string Name, WebApplication App, string Address)>();
        foreach (var durability in new[] { "Off", "Process", "Machine" })
        {
            var (app, address) = await StartGatewayAsync(upstream.Address, new() { ["LlmTrace:Capture:Journal:Durability"] = durability });
            gateways.Add(($"journal {durability}", app, address));
        }

        Console.WriteLine($"# Capture journal cost (JSON chat completion), {Environment.ProcessorCount} cores, {options.Seconds} s per measurement, {options.Rounds} rounds each");
        var table = new StringBuilder()
            .AppendLine("| clients | gateway | p50 ms | p99 ms | req/s | p50 added vs journal off, ms | throughput vs journal off | errors |")
            .AppendLine("|---:|---|---:|---:|---:|---:|---:|---:|");
        foreach (var concurrency in options.Concurrency)
        {
            var results = gateways.ToDictionary(g => g.Name, _ => new List<Measurement>());
            foreach (var (_, _, address) in gateways)
            {
                await MeasureAsync(address, RequestBody, concurrency, TimeSpan.FromSeconds(2)); // warm-up
            }

            for (var round = 0; round < options.Rounds; round++)
            {
                foreach (var (name, _, address) in gateways)
                {
                    results[name].Add(await MeasureAsync(address, RequestBody, concurrency, TimeSpan.FromSeconds(options.Seconds)));
                }
            }

            var off = Measurement.Merge(results["journal Off"]);
            foreach (var (name, _, _) in gateways)
            {
                var m = Measurement.Merge(results[name]);
                var row = string.Create(CultureInfo.InvariantCulture,
                    $"| {concurrency} | {name} | {m.Percentile(50):F3} | {m.Percentile(99):F3} | {m.RequestsPerSecond:F0} | {m.Percentile(50) - off.Percentile(50):F3} | {m.RequestsPerSecond / off.RequestsPerSecond:F2} | {m.Errors} |");
                table.AppendLine(row);
                Console.WriteLine(row);
            }
        }

        foreach (var (_, app, _) in gateways)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }

        Console.WriteLine();
        Console.WriteLine(table);
    }

    /// <summary>
    /// The cost of telemetry, in one run: SelfHost with no OpenTelemetry SDK, with its default (metrics behind
    /// <c>/metrics</c>), and with every span recorded as well. Meter and activity listeners are process-wide, so the
    /// variants run one at a time, each started afresh in every round and stopped before the next.
    /// </summary>
    public static async Task RunTelemetryAsync(BenchOptions options)
    {
        await using var upstream = await StartUpstreamAsync();
        (string Name, Dictionary<string, string?> Settings, Action<WebApplicationBuilder>? Configure)[] variants =
        [
            ("telemetry off", new() { ["LlmTrace:Telemetry:Enabled"] = "false" }, null),
            ("metrics (default)", new(), null),
            ("metrics + spans", new(), builder => builder.Services.AddOpenTelemetry()
                .WithTracing(tracing => tracing.AddSource(LlmTrace.Domain.Telemetry.GatewayTelemetry.Name))),
        ];

        await CompareVariantsAsync(options, "Telemetry cost", "telemetry off", upstream.Address, variants);
    }

    /// <summary>
    /// The cost of the dashboard's counters (<c>ITrafficStatsStore</c>: four rows folded per trace, in the SQLite
    /// transaction after the trace write), in one run: the default, and the same gateway with a store that discards
    /// them (a diagnostic variant only; the product always counts).
    /// </summary>
    public static async Task RunCountersAsync(BenchOptions options)
    {
        await using var upstream = await StartUpstreamAsync();
        (string Name, Dictionary<string, string?> Settings, Action<WebApplicationBuilder>? Configure)[] variants =
        [
            ("counters off (diagnostic)", new(), builder => builder.Services.AddSingleton<LlmTrace.Domain.Stats.ITrafficStatsStore>(new DiscardingTrafficStatsStore())),
            ("counters on (default)", new(), null),
        ];
        await CompareVariantsAsync(options, "Dashboard counters cost", "counters off (diagnostic)", upstream.Address, variants);
    }

    /// <summary>
    /// Gateways configured differently, measured one at a time against the same upstream: each started afresh in every
    /// round (process-wide listeners cannot leak into the next), and each round starting with another variant, so no
    /// variant always runs first (or last) on a warming machine. Each row is compared with <paramref name="baseline"/>.
    /// </summary>
    private static async Task CompareVariantsAsync(
        BenchOptions options, string title, string baseline, string upstream,
        IReadOnlyList<(string Name, Dictionary<string, string?> Settings, Action<WebApplicationBuilder>? Configure)> variants)
    {
        Console.WriteLine($"# {title} (JSON chat completion), {Environment.ProcessorCount} cores, {options.Seconds} s per measurement, {options.Rounds} rounds each");
        var table = new StringBuilder()
            .AppendLine($"| clients | gateway | p50 ms | p99 ms | req/s | p50 added vs {baseline}, ms | throughput vs {baseline} | errors |")
            .AppendLine("|---:|---|---:|---:|---:|---:|---:|---:|");
        foreach (var concurrency in options.Concurrency)
        {
            var results = variants.ToDictionary(v => v.Name, _ => new List<Measurement>());
            for (var round = 0; round < options.Rounds; round++)
            {
                foreach (var (name, settings, configure) in variants.Skip(round % variants.Count).Concat(variants.Take(round % variants.Count)))
                {
                    var (app, address) = await StartGatewayAsync(upstream, settings, configure);
                    await MeasureAsync(address, RequestBody, concurrency, TimeSpan.FromSeconds(2)); // warm-up
                    results[name].Add(await MeasureAsync(address, RequestBody, concurrency, TimeSpan.FromSeconds(options.Seconds)));
                    await app.StopAsync();
                    await app.DisposeAsync();
                }
            }

            var reference = Measurement.Merge(results[baseline]);
            foreach (var (name, _, _) in variants)
            {
                var m = Measurement.Merge(results[name]);
                var row = string.Create(CultureInfo.InvariantCulture,
                    $"| {concurrency} | {name} | {m.Percentile(50):F3} | {m.Percentile(99):F3} | {m.RequestsPerSecond:F0} | {m.Percentile(50) - reference.Percentile(50):F3} | {m.RequestsPerSecond / reference.RequestsPerSecond:F2} | {m.Errors} |");
                table.AppendLine(row);
                Console.WriteLine(row);
            }
        }

        Console.WriteLine();
        Console.WriteLine(table);
    }

    /// <summary>
    /// The cost of backend pools, in one run: today's single URL (the baseline), the same upstream as a pool of one,
    /// a pool whose primary is cooling after a 429 (<c>retry-after: 30</c>: every call goes straight to the secondary),
    /// and a pool whose primary answers every call with 429 and <c>retry-after-ms: 0</c> (every call fails over).
    /// </summary>
    public static async Task RunRoutingAsync(BenchOptions options)
    {
        await using var upstream = await StartUpstreamAsync();
        await using var cooling = await StartThrottledUpstreamAsync("retry-after", "30");
        await using var throttling = await StartThrottledUpstreamAsync("retry-after-ms", "0");
        Dictionary<string, string?> Pool(params string[] urls)
        {
            var settings = new Dictionary<string, string?>();
            for (var i = 0; i < urls.Length; i++)
            {
                settings[$"LlmTrace:Upstreams:Pools:Default:Backends:{i}:Url"] = urls[i];
                settings[$"LlmTrace:Upstreams:Pools:Default:Backends:{i}:Name"] = $"b{i}";
                settings[$"LlmTrace:Upstreams:Pools:Default:Backends:{i}:Priority"] = i.ToString(CultureInfo.InvariantCulture);
            }

            return settings;
        }

        (string Name, Dictionary<string, string?> Settings)[] variants =
        [
            ("single URL", new()),
            ("pool of one", Pool(upstream.Address)),
            ("primary cooling", Pool(cooling.Address, upstream.Address)),
            ("failover every call", Pool(throttling.Address, upstream.Address)),
        ];
        await CompareVariantsAsync(options, "Routing cost", "single URL", upstream.Address, [.. variants.Select(v => (v.Name, v.Settings, (Action<WebApplicationBuilder>?)null))]);
    }

    /// <summary>An upstream that answers every call with 429 and one waiting header.</summary>
    private static async Task<Upstream> StartThrottledUpstreamAsync(string header, string value)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var body = """{"error":{"message":"Rate limit reached","type":"rate_limit_error","code":"rate_limit_exceeded"}}"""u8.ToArray();
        app.MapPost("/v1/chat/completions", async (HttpContext context) =>
        {
            context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            context.Response.Headers[header] = value;
            context.Response.ContentType = "application/json";
            await context.Response.Body.WriteAsync(body);
        });
        await app.StartAsync();
        return new Upstream(app, app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    /// <summary>A SelfHost gateway of this build on a free loopback port, with its own data folder.</summary>
    internal static async Task<(WebApplication App, string Address)> StartGatewayAsync(string upstream, Dictionary<string, string?> settings, Action<WebApplicationBuilder>? configure = null)
    {
        var folder = Path.Combine(Path.GetTempPath(), "llmtrace-bench", Guid.NewGuid().ToString("N"));
        var app = SelfHostApp.Build([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(settings)
            {
                ["urls"] = "http://127.0.0.1:0",
                ["LlmTrace:Upstreams:Default"] = upstream,
                ["LlmTrace:Sqlite:Path"] = Path.Combine(folder, "traces.db"),
            });
            builder.Logging.ClearProviders();
            configure?.Invoke(builder);
        });
        await app.StartAsync();
        return (app, app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    private static async Task<Measurement> MeasureAsync(string baseAddress, string body, int concurrency, TimeSpan duration)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = concurrency, UseProxy = false, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var client = new HttpClient(handler) { BaseAddress = new Uri(baseAddress) };
        var payload = Encoding.UTF8.GetBytes(body);
        var until = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var started = Stopwatch.GetTimestamp();
        var workers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            var latencies = new List<double>(100_000);
            var errors = 0;
            var buffer = new byte[16 * 1024];
            while (Stopwatch.GetTimestamp() < until)
            {
                var t0 = Stopwatch.GetTimestamp();
                using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new ByteArrayContent(payload) };
                request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "sk-bench");
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                await using (var stream = await response.Content.ReadAsStreamAsync())
                {
                    while (await stream.ReadAsync(buffer) > 0)
                    {
                    }
                }

                if (response.StatusCode != HttpStatusCode.OK)
                {
                    errors++;
                }

                latencies.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }

            return (latencies, errors);
        })).ToArray();
        var results = await Task.WhenAll(workers);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var all = results.SelectMany(r => r.latencies).ToArray();
        return new Measurement(all, all.Length / elapsed, results.Sum(r => r.errors));
    }

    private static async Task<Upstream> StartUpstreamAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost("/v1/chat/completions", async (HttpContext context) =>
        {
            using var json = await System.Text.Json.JsonDocument.ParseAsync(context.Request.Body);
            var stream = json.RootElement.TryGetProperty("stream", out var s) && s.GetBoolean();
            context.Response.ContentType = stream ? "text/event-stream" : "application/json";
            var payload = stream ? SseResponse : JsonResponse;
            context.Response.ContentLength = stream ? null : payload.Length;
            await context.Response.Body.WriteAsync(payload);
        });
        await app.StartAsync();
        return new Upstream(app, app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    /// <summary>A bare YARP forwarder to the same upstream: the cost of any reverse proxy hop, for comparison.</summary>
    internal static async Task<Upstream> StartYarpAsync(string upstream)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddHttpForwarder();
        var app = builder.Build();
        var invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ActivityHeadersPropagator = null,
        });
        var forwarder = app.Services.GetRequiredService<IHttpForwarder>();
        app.Map("/{**path}", async (HttpContext context) => { await forwarder.SendAsync(context, upstream, invoker); });
        await app.StartAsync();
        return new Upstream(app, app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    /// <summary>Counts and drops traces: isolates the proxy and capture path from the store's write cost (diagnostic runs only).</summary>
    private sealed class DiscardingTraceStore : LlmTrace.Domain.Capture.ITraceStore
    {
        private long _count;

        public Task UpsertAsync(IReadOnlyList<LlmTrace.Domain.Capture.Trace> traces, CancellationToken cancellationToken)
        {
            Interlocked.Add(ref _count, traces.Count);
            return Task.CompletedTask;
        }

        public Task<LlmTrace.Domain.Capture.Trace?> GetAsync(Guid traceId, CancellationToken cancellationToken) => Task.FromResult<LlmTrace.Domain.Capture.Trace?>(null);

        public Task<LlmTrace.Domain.Capture.TracePage> QueryAsync(LlmTrace.Domain.Capture.TraceQuery query, CancellationToken cancellationToken)
            => Task.FromResult(new LlmTrace.Domain.Capture.TracePage([], null));

        public Task PingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class DiscardingTrafficStatsStore : LlmTrace.Domain.Stats.ITrafficStatsStore
    {
        public int MaxItemsPerCommit => int.MaxValue;

        public bool CommitFailsOnExistingMarker => false;

        public string PartitionOf(LlmTrace.Domain.Stats.StatsKey key) => string.Empty;

        // Never runs the fold: nothing is read, counted or written.
        public Task RunAsync(Func<LlmTrace.Domain.Folding.IFoldSession<LlmTrace.Domain.Stats.StatsKey, LlmTrace.Domain.Stats.TrafficCounters>, Task> work, CancellationToken cancellationToken)
            => Task.CompletedTask;

        public Task<IReadOnlyList<LlmTrace.Domain.Stats.TrafficBucket>> ReadAsync(string scope, LlmTrace.Domain.Stats.StatsResolution resolution, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
            => Task.FromResult<IReadOnlyList<LlmTrace.Domain.Stats.TrafficBucket>>([]);

        public Task<int> PruneAsync(DateTimeOffset now, CancellationToken cancellationToken) => Task.FromResult(0);
    }

    internal sealed record Upstream(WebApplication App, string Address) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }
    }

    private sealed record Measurement(double[] LatenciesMs, double RequestsPerSecond, int Errors)
    {
        public static Measurement Merge(IReadOnlyList<Measurement> parts)
            => new([.. parts.SelectMany(p => p.LatenciesMs)], parts.Average(p => p.RequestsPerSecond), parts.Sum(p => p.Errors));

        public double Percentile(double p)
        {
            var sorted = LatenciesMs.Order().ToArray();
            if (sorted.Length == 0)
            {
                return double.NaN;
            }

            var rank = (int)Math.Ceiling(p / 100 * sorted.Length) - 1;
            return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
        }
    }
}
