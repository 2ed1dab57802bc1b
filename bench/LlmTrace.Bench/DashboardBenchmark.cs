using System.Diagnostics;
using System.Globalization;
using LlmTrace.Domain.Capture;
using Trace = LlmTrace.Domain.Capture.Trace;
using LlmTrace.Domain.Processing;
using LlmTrace.SelfHost;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;

namespace LlmTrace.Bench;

/// <summary>
/// The dashboard's targets on SelfHost with many stored traces: how fast <c>/api/stats</c> answers over each range the
/// pages ask for, how fast the trace list's first page comes, and how long Chromium takes from navigation to the
/// overview's figures on screen (the first page interactive).
/// </summary>
internal static class DashboardBenchmark
{
    public static async Task RunAsync(int traces, int rounds)
    {
        var folder = Path.Combine(Path.GetTempPath(), "llmtrace-bench", Guid.NewGuid().ToString("N"));
        var app = SelfHostApp.Build([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["urls"] = "http://127.0.0.1:0",
                ["LlmTrace:Upstreams:Default"] = "http://127.0.0.1:9",
                ["LlmTrace:Sqlite:Path"] = Path.Combine(folder, "traces.db"),
                ["LlmTrace:Sqlite:RetentionDays"] = "0",
            });
            builder.Logging.ClearProviders();
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().Replace("127.0.0.1", "localhost", StringComparison.Ordinal);
        try
        {
            var seeded = Stopwatch.StartNew();
            await SeedAsync(app.Services.GetRequiredService<TracePipeline>(), traces);
            Console.WriteLine($"seeded {traces:N0} traces over 30 days in {seeded.Elapsed.TotalSeconds:F1} s ({new FileInfo(Path.Combine(folder, "traces.db")).Length / 1e6:F0} MB)");

            using var http = new HttpClient { BaseAddress = new Uri(address) };
            var now = DateTimeOffset.UtcNow;
            string Iso(DateTimeOffset at) => Uri.EscapeDataString(at.ToString("O", CultureInfo.InvariantCulture));
            var calls = new (string Name, string Path)[]
            {
                ("stats, last hour by minute", $"/api/stats?from={Iso(now.AddHours(-1))}&to={Iso(now)}"),
                ("stats, last 24 h by hour", $"/api/stats?from={Iso(now.AddHours(-24))}&to={Iso(now)}&bucket=hour"),
                ("stats, last 7 days by hour", $"/api/stats?from={Iso(now.AddDays(-7))}&to={Iso(now)}&bucket=hour"),
                ("stats, last 30 days by day", $"/api/stats?from={Iso(now.AddDays(-30))}&to={Iso(now)}&bucket=day"),
                ("traces, first page of 50", "/api/traces?limit=50"),
                ("traces, failed calls only", "/api/traces?limit=50&status=error"),
            };
            Console.WriteLine("| call | p50 ms | p95 ms | max ms |");
            Console.WriteLine("|---|---:|---:|---:|");
            foreach (var (name, path) in calls)
            {
                var times = new List<double>();
                for (var i = 0; i < rounds + 3; i++)
                {
                    var t0 = Stopwatch.GetTimestamp();
                    using var response = await http.GetAsync(path);
                    await response.Content.ReadAsByteArrayAsync();
                    response.EnsureSuccessStatusCode();
                    if (i >= 3)
                    {
                        times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                    }
                }

                times.Sort();
                Console.WriteLine($"| {name} | {times[times.Count / 2]:F1} | {times[(int)(times.Count * 0.95)]:F1} | {times[^1]:F1} |");
            }

            await FirstPageAsync(address, rounds);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private static async Task SeedAsync(TracePipeline pipeline, int count)
    {
        var random = new Random(7);
        var tenants = Enumerable.Range(0, 20).Select(_ => Guid.NewGuid()).ToArray();
        var models = new[] { "gpt-4o-mini", "gpt-4o", "claude-sonnet-4-5", "gemini-2.5-flash", "o3-mini" };
        var now = DateTimeOffset.UtcNow;
        const int Batch = 1000;
        for (var done = 0; done < count; done += Batch)
        {
            var batch = Enumerable.Range(0, Math.Min(Batch, count - done)).Select(_ =>
            {
                var model = models[random.Next(models.Length)];
                var failed = random.Next(50) == 0;
                var flagged = random.Next(30) == 0;
                return new Trace
                {
                    TraceId = Guid.CreateVersion7(),
                    TenantId = tenants[random.Next(tenants.Length)],
                    AgentId = "agent-" + random.Next(12),
                    Provider = "openai",
                    Model = model,
                    Endpoint = "/v1/chat/completions",
                    Method = "POST",
                    StatusCode = failed ? 500 : 200,
                    StartedAt = now.AddSeconds(-random.Next(30 * 86_400)),
                    DurationMs = 200 + random.NextDouble() * 2_000,
                    TtftMs = 50 + random.NextDouble() * 400,
                    PromptTokens = random.Next(50, 4_000),
                    CompletionTokens = random.Next(10, 800),
                    Prompt = "user: " + new string('x', random.Next(200, 2_000)),
                    Response = new string('y', random.Next(100, 1_500)),
                    Cost = new TraceCost { Total = random.Next(1, 50_000) / 1_000_000m, PricedAs = model, CatalogDate = "2026-11-01" },
                    Priced = true,
                    Findings = flagged ? [new Finding { Type = "prompt_injection", Severity = FindingSeverity.High, Location = "request", Detector = "bench" }] : [],
                };
            }).ToList();
            await pipeline.StoreAsync(batch, CancellationToken.None);
        }
    }

    private static async Task FirstPageAsync(string address, int rounds)
    {
        var chromium = Environment.GetEnvironmentVariable("LLMTRACE_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";
        if (!File.Exists(chromium))
        {
            Console.WriteLine($"no Chromium at {chromium}: first-page time not measured (apt-get install chromium)");
            return;
        }

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = chromium,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var times = new List<double>();
        for (var i = 0; i < rounds + 1; i++)
        {
            // A fresh context each time: nothing cached, as on a first visit.
            await using var context = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
            var page = await context.NewPageAsync();
            var t0 = Stopwatch.GetTimestamp();
            await page.GotoAsync(address + "/ui/");
            await page.Locator(".tile-value").First.WaitForAsync();
            await page.Locator("figure.chart svg, figure.chart .empty").First.WaitForAsync();
            if (i > 0)
            {
                times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
        }

        times.Sort();
        Console.WriteLine($"first page interactive (navigation to figures and charts on screen, cold cache): p50 {times[times.Count / 2]:F0} ms, max {times[^1]:F0} ms over {times.Count} loads");
    }
}
