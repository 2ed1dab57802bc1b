using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace LlmTrace.Bench;

/// <summary>
/// Memory under load, measured on SelfHost as a process of its own (its resident set read from /proc): many streams held
/// open at once, then minutes of mixed JSON and streamed load, then idle again, to show that memory comes back.
/// </summary>
internal static class SoakBenchmark
{
    private static readonly byte[] Event = Encoding.UTF8.GetBytes("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"word \"},\"finish_reason\":null}]}\n\n");
    private static readonly byte[] Last = Encoding.UTF8.GetBytes("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":30,\"total_tokens\":42}}\n\ndata: [DONE]\n\n");
    private static readonly byte[] Json = Encoding.UTF8.GetBytes("""{"id":"c","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there."},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}""");

    public static async Task RunAsync(int streams, int minutes)
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = await StartUpstreamAsync(release.Task);
        var port = FreePort();
        var folder = Path.Combine(Path.GetTempPath(), "llmtrace-soak", Guid.NewGuid().ToString("N"));
        using var gateway = Process.Start(new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "LlmTrace.SelfHost.dll")])
        {
            Environment =
            {
                ["urls"] = $"http://127.0.0.1:{port}",
                ["LlmTrace__Sqlite__Path"] = Path.Combine(folder, "traces.db"),
                ["LlmTrace__Upstreams__Default"] = upstream.Address,
                ["Logging__LogLevel__Default"] = "Warning",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        gateway.BeginOutputReadLine();
        gateway.BeginErrorReadLine();
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = streams + 64, UseProxy = false };
        using var http = new HttpClient(handler) { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(5) };
        await WaitHealthyAsync(http);

        await LoadAsync(http, TimeSpan.FromSeconds(10), 16); // warm-up
        await Task.Delay(TimeSpan.FromSeconds(5));
        var baseline = RssMb(gateway.Id);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"baseline after warm-up: {baseline:F0} MB"));

        // Phase 1: streams held open at once.
        var opened = 0;
        var held = Enumerable.Range(0, streams).Select(async _ =>
        {
            using var request = Request(stream: true);
            request.Headers.TryAddWithoutValidation("x-soak-hold", "1");
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            await using var body = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[4096];
            _ = await body.ReadAsync(buffer);
            Interlocked.Increment(ref opened);
            while (await body.ReadAsync(buffer) > 0)
            {
            }
        }).ToList();
        while (Volatile.Read(ref opened) < streams)
        {
            await Task.Delay(100);
        }

        await Task.Delay(TimeSpan.FromSeconds(3));
        var withStreams = RssMb(gateway.Id);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{streams} streams open at once: {withStreams:F0} MB ({withStreams - baseline:+0;-0} MB over baseline)"));
        release.SetResult();
        await Task.WhenAll(held);

        // Phase 2: mixed load, sampled.
        var samples = new List<double>();
        var load = LoadAsync(http, TimeSpan.FromMinutes(minutes), 16);
        while (!load.IsCompleted)
        {
            await Task.WhenAny(load, Task.Delay(TimeSpan.FromSeconds(10)));
            samples.Add(RssMb(gateway.Id));
        }

        var calls = await load;
        await Task.Delay(TimeSpan.FromSeconds(30));
        var after = RssMb(gateway.Id);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{minutes} min of mixed load ({calls} calls, 16 clients, a third streamed): RSS min {samples.Min():F0} / max {samples.Max():F0} MB; first minute {samples.Take(6).Average():F0} MB, last minute {samples.TakeLast(6).Average():F0} MB; 30 s after: {after:F0} MB (baseline {baseline:F0} MB)"));
        gateway.Kill();
        await gateway.WaitForExitAsync();
    }

    private static async Task<long> LoadAsync(HttpClient http, TimeSpan duration, int clients)
    {
        var until = DateTime.UtcNow + duration;
        long calls = 0;
        long errors = 0;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async client =>
        {
            for (var i = 0; DateTime.UtcNow < until; i++)
            {
                try
                {
                    using var response = await http.SendAsync(Request(stream: (i + client) % 3 == 0));
                    await response.Content.ReadAsByteArrayAsync();
                    Interlocked.Increment(ref response.IsSuccessStatusCode ? ref calls : ref errors);
                }
                catch (HttpRequestException ex)
                {
                    if (Interlocked.Increment(ref errors) <= 3)
                    {
                        Console.WriteLine($"error: {ex.Message} {ex.InnerException?.Message}");
                    }
                }
            }
        }));
        if (errors > 0)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{errors} failed calls"));
        }

        return calls;
    }

    private static HttpRequestMessage Request(bool stream)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent($$"""{"model":"gpt-4o-mini","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"Tell me about memory."}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer sk-soak");
        return request;
    }

    /// <summary>The resident set of a process, in MB, from /proc.</summary>
    private static double RssMb(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
    }

    private static async Task WaitHealthyAsync(HttpClient http)
    {
        for (var i = 0; i < 600; i++)
        {
            try
            {
                using var health = await http.GetAsync("/health");
                if (health.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("SelfHost did not start");
    }

    /// <summary>An upstream whose held streams (header <c>x-soak-hold</c>) stay open after a first event until <paramref name="release"/>; other calls answer at once.</summary>
    private static async Task<SoakUpstream> StartUpstreamAsync(Task release)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost("/v1/chat/completions", async (HttpContext context) =>
        {
            using var json = await System.Text.Json.JsonDocument.ParseAsync(context.Request.Body);
            if (!(json.RootElement.TryGetProperty("stream", out var s) && s.GetBoolean()))
            {
                context.Response.ContentType = "application/json";
                context.Response.ContentLength = Json.Length;
                await context.Response.Body.WriteAsync(Json);
                return;
            }

            context.Response.ContentType = "text/event-stream";
            await context.Response.Body.WriteAsync(Event);
            await context.Response.Body.FlushAsync();
            if (context.Request.Headers.ContainsKey("x-soak-hold"))
            {
                await release;
            }

            for (var i = 0; i < 30; i++)
            {
                await context.Response.Body.WriteAsync(Event);
            }

            await context.Response.Body.WriteAsync(Last);
        });
        await app.StartAsync();
        return new SoakUpstream(app, app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed record SoakUpstream(WebApplication App, string Address) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }
    }
}
