using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using LlmTrace.Tests.Infrastructure;

namespace LlmTrace.Tests.Capture;

/// <summary>
/// kill -9 of a SelfHost process under 16 clients, then a restart on the same data: every call a client saw answered has its
/// trace, and the spend ledger agrees with the traces to the micro-dollar (the capture journal and idempotent stages).
/// </summary>
public sealed class CrashRecoveryTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private const string Key = "sk-crash-test-key";
    private readonly string _data = Path.Combine(Path.GetTempPath(), "llmtrace-crash", Guid.NewGuid().ToString("N"));
    private FakeUpstream _upstream = null!;
    private Process? _process;
    private string? _pooledDown;

    public async Task InitializeAsync() => _upstream = await FakeUpstream.StartAsync();

    public async Task DisposeAsync()
    {
        Kill();
        await _upstream.DisposeAsync();
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }

    /// <param name="pooled">The OpenAI route is a pool whose first backend refuses connections: calls fail over while the process dies.</param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task KillDuringLoad_ThenRestart_EveryAnsweredCallHasItsTrace_AndSpendAgrees(bool pooled)
    {
        var port = Ports.Free();
        _pooledDown = pooled ? $"http://127.0.0.1:{Ports.Free()}" : null;
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        await StartAsync(port, http);

        var answered = new ConcurrentBag<Guid>();
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 16).Select(c => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                try
                {
                    var stream = (i + c) % 3 == 0;
                    using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
                    {
                        Content = new StringContent($$"""{"model":"gpt-4o-mini","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"call {{c}}-{{i}}"}]}""", Encoding.UTF8, "application/json"),
                    };
                    request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Key);
                    using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                    var body = await response.Content.ReadAsStringAsync(); // the whole answer, as the client saw it
                    if (response.StatusCode == HttpStatusCode.OK && (!stream || body.Contains("[DONE]", StringComparison.Ordinal)))
                    {
                        answered.Add(Guid.Parse(response.Headers.GetValues("x-llmtrace-trace-id").Single()));
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
                {
                    // The process was killed under this call: the client saw no answer.
                }
            }
        })).ToList();

        await Task.Delay(TimeSpan.FromSeconds(2));
        Kill(); // SIGKILL: no shutdown, no drain
        await stop.CancelAsync();
        await Task.WhenAll(clients);
        Assert.True(answered.Count > 50, $"only {answered.Count} calls were answered before the kill");

        await StartAsync(port, http);
        var missing = answered.ToHashSet();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (missing.Count > 0 && DateTime.UtcNow < deadline)
        {
            foreach (var id in missing.ToList())
            {
                using var response = await http.GetAsync($"/api/traces/{id}");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    missing.Remove(id);
                }
            }

            if (missing.Count > 0)
            {
                await Task.Delay(200);
            }
        }

        output.WriteLine($"{(pooled ? "pooled: " : string.Empty)}{answered.Count} calls answered before kill -9; {missing.Count} without a trace after the restart");
        Assert.True(missing.Count == 0, $"{missing.Count} of {answered.Count} answered calls have no trace after the restart");

        // Spend: the ledger's month for the tenant equals the sum of its traces' costs, and counts each call once.
        var traces = await AllTracesAsync(http);
        var tenant = traces.First(t => answered.Contains(t.GetProperty("traceId").GetGuid())).GetProperty("tenantId").GetGuid();
        traces = [.. traces.Where(t => t.GetProperty("tenantId").GetGuid() == tenant)];
        Assert.Equal(traces.Count, traces.Select(t => t.GetProperty("traceId").GetGuid()).Distinct().Count());
        var billed = traces.Where(t => t.GetProperty("promptTokens").ValueKind == JsonValueKind.Number).ToList();
        var traceSpend = billed.Sum(t => t.GetProperty("cost").ValueKind == JsonValueKind.Object ? t.GetProperty("cost").GetProperty("total").GetDecimal() : 0m);
        using var budget = JsonDocument.Parse(await http.GetStringAsync($"/api/tenants/{tenant}/budget"));
        var month = budget.RootElement.GetProperty("windows").EnumerateArray().Single(w => w.GetProperty("window").GetString() == "monthly" && w.GetProperty("agentId").ValueKind == JsonValueKind.Null);
        Assert.Equal(billed.Count, month.GetProperty("requests").GetInt64());
        Assert.Equal(Math.Round(traceSpend, 6), Math.Round(month.GetProperty("spentUsd").GetDecimal(), 6));
    }

    private async Task StartAsync(int port, HttpClient http)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "LlmTrace.SelfHost.dll");
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.Environment["urls"] = $"http://127.0.0.1:{port}";
        start.Environment["LlmTrace__Sqlite__Path"] = Path.Combine(_data, "traces.db");
        start.Environment["LlmTrace__Upstreams__Default"] = _upstream.BaseAddress.GetLeftPart(UriPartial.Authority);
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        if (_pooledDown is not null)
        {
            start.Environment["LlmTrace__Upstreams__Pools__Default__Backends__0__Url"] = _pooledDown;
            start.Environment["LlmTrace__Upstreams__Pools__Default__Backends__0__Name"] = "down";
            start.Environment["LlmTrace__Upstreams__Pools__Default__Backends__1__Url"] = _upstream.BaseAddress.GetLeftPart(UriPartial.Authority);
            start.Environment["LlmTrace__Upstreams__Pools__Default__Backends__1__Name"] = "up";
            start.Environment["LlmTrace__Upstreams__Pools__Default__Backends__1__Priority"] = "1";
        }

        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
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

    private void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(); // SIGKILL on Linux
            _process.WaitForExit();
        }

        _process?.Dispose();
        _process = null;
    }

    private static async Task<List<JsonElement>> AllTracesAsync(HttpClient http)
    {
        var all = new List<JsonElement>();
        string? token = null;
        do
        {
            var url = "/api/traces?limit=1000" + (token is null ? string.Empty : "&continuationToken=" + Uri.EscapeDataString(token));
            using var page = JsonDocument.Parse(await http.GetStringAsync(url));
            all.AddRange(page.RootElement.GetProperty("items").EnumerateArray().Select(e => e.Clone()));
            token = page.RootElement.GetProperty("continuationToken").GetString();
        }
        while (token is not null);

        return all;
    }
}
