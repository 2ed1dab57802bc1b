using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LlmTrace.Bench;

/// <summary>
/// What a streaming client feels, in one run against one upstream: direct, through a bare YARP hop, and through
/// LlmTrace. The upstream answers a streamed chat completion with its first event at once, then one event every
/// <see cref="GapMs"/> ms, flushing each. For every call the client records the time to the first event (TTFT) and
/// the time between consecutive events as they arrive; the figures are what each hop adds to those.
/// </summary>
internal static class StreamTimingBenchmark
{
    private const int Events = 12;
    private const int GapMs = 5;
    private const string Body = """{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Say hello in twelve words."}]}""";

    public static async Task RunAsync(BenchOptions options)
    {
        await using var upstream = await StartPacedUpstreamAsync();
        await using var yarp = await ProxyOverheadBenchmark.StartYarpAsync(upstream.Address);
        var (gateway, gatewayAddress) = await ProxyOverheadBenchmark.StartGatewayAsync(upstream.Address, []);
        var targets = new (string Name, string Address)[] { ("direct", upstream.Address), ("YARP (bare proxy)", yarp.Address), ("LlmTrace", gatewayAddress) };
        Console.WriteLine($"# Streaming timing, {Events} events {GapMs} ms apart, {Environment.ProcessorCount} cores, {options.Seconds} s per measurement, {options.Rounds} rounds each (rotated)");
        var table = new StringBuilder()
            .AppendLine("| clients | through | TTFT p50 ms | TTFT p99 ms | TTFT added p50 vs direct / vs YARP, ms | gap p50 ms | gap p99 ms | gap added p99 vs direct / vs YARP, ms | streams/s |")
            .AppendLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var concurrency in options.Concurrency)
        {
            var results = targets.ToDictionary(t => t.Name, _ => new List<Timing>());
            foreach (var (_, address) in targets)
            {
                await MeasureAsync(address, concurrency, TimeSpan.FromSeconds(2)); // warm-up
            }

            for (var round = 0; round < options.Rounds; round++)
            {
                foreach (var (name, address) in targets.Skip(round % targets.Length).Concat(targets.Take(round % targets.Length)))
                {
                    results[name].Add(await MeasureAsync(address, concurrency, TimeSpan.FromSeconds(options.Seconds)));
                }
            }

            var direct = Timing.Merge(results["direct"]);
            var bare = Timing.Merge(results["YARP (bare proxy)"]);
            foreach (var (name, _) in targets)
            {
                var m = Timing.Merge(results[name]);
                var row = string.Create(CultureInfo.InvariantCulture,
                    $"| {concurrency} | {name} | {P(m.Ttft, 50):F3} | {P(m.Ttft, 99):F3} | {P(m.Ttft, 50) - P(direct.Ttft, 50):F3} / {P(m.Ttft, 50) - P(bare.Ttft, 50):F3} | {P(m.Gaps, 50):F3} | {P(m.Gaps, 99):F3} | {P(m.Gaps, 99) - P(direct.Gaps, 99):F3} / {P(m.Gaps, 99) - P(bare.Gaps, 99):F3} | {m.StreamsPerSecond:F0} |");
                table.AppendLine(row);
                Console.WriteLine(row);
            }
        }

        await gateway.StopAsync();
        await gateway.DisposeAsync();
        Console.WriteLine();
        Console.WriteLine(table);
    }

    private static double P(double[] values, double percentile)
    {
        if (values.Length == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(percentile / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    private static async Task<Timing> MeasureAsync(string address, int concurrency, TimeSpan duration)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = concurrency, UseProxy = false, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var client = new HttpClient(handler) { BaseAddress = new Uri(address) };
        var payload = Encoding.UTF8.GetBytes(Body);
        var until = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var started = Stopwatch.GetTimestamp();
        var workers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            var ttft = new List<double>();
            var gaps = new List<double>();
            var buffer = new byte[16 * 1024];
            while (Stopwatch.GetTimestamp() < until)
            {
                var t0 = Stopwatch.GetTimestamp();
                using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new ByteArrayContent(payload) };
                request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "sk-bench");
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                await using var stream = await response.Content.ReadAsStreamAsync();
                long? last = null;
                int read;
                while ((read = await stream.ReadAsync(buffer)) > 0)
                {
                    // One time stamp per read; events that arrive in the same read arrived together.
                    var now = Stopwatch.GetTimestamp();
                    var events = CountEvents(buffer.AsSpan(0, read));
                    for (var e = 0; e < events; e++)
                    {
                        if (last is null)
                        {
                            ttft.Add(Stopwatch.GetElapsedTime(t0, now).TotalMilliseconds);
                        }
                        else
                        {
                            gaps.Add(Stopwatch.GetElapsedTime(last.Value, now).TotalMilliseconds);
                        }

                        last = now;
                    }
                }
            }

            return (ttft, gaps);
        })).ToArray();
        var results = await Task.WhenAll(workers);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var firsts = results.SelectMany(r => r.ttft).ToArray();
        return new Timing(firsts, [.. results.SelectMany(r => r.gaps)], firsts.Length / elapsed);
    }

    private static int CountEvents(ReadOnlySpan<byte> chunk)
    {
        var count = 0;
        for (var i = chunk.IndexOf("\n\n"u8); i >= 0; i = chunk.IndexOf("\n\n"u8))
        {
            count++;
            chunk = chunk[(i + 2)..];
        }

        return count;
    }

    /// <summary>An upstream that streams <see cref="Events"/> OpenAI-style chunks <see cref="GapMs"/> ms apart, then usage and [DONE].</summary>
    private static async Task<ProxyOverheadBenchmark.Upstream> StartPacedUpstreamAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost("/v1/chat/completions", async (HttpContext context) =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null);
            context.Response.ContentType = "text/event-stream";
            for (var i = 0; i < Events; i++)
            {
                if (i > 0)
                {
                    await Task.Delay(GapMs);
                }

                await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(
                    $"data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"w{i} \"}},\"finish_reason\":null}}]}}\n\n"));
                await context.Response.Body.FlushAsync();
            }

            await context.Response.Body.WriteAsync("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":12,\"total_tokens\":24}}\n\ndata: [DONE]\n\n"u8.ToArray());
        });
        await app.StartAsync();
        return new ProxyOverheadBenchmark.Upstream(app, app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    private sealed record Timing(double[] Ttft, double[] Gaps, double StreamsPerSecond)
    {
        public static Timing Merge(IReadOnlyList<Timing> parts)
            => new([.. parts.SelectMany(p => p.Ttft)], [.. parts.SelectMany(p => p.Gaps)], parts.Average(p => p.StreamsPerSecond));
    }
}
