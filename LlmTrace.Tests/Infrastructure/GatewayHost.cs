using LlmTrace.Domain.Capture;
using LlmTrace.SelfHost;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LlmTrace.Tests.Infrastructure;

/// <summary>The real SelfHost on Kestrel over loopback (port 0), with its SQLite file in a temporary folder.</summary>
public sealed class GatewayHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _folder;

    private GatewayHost(WebApplication app, string folder)
    {
        _app = app;
        _folder = folder;
    }

    public Uri BaseAddress { get; private set; } = null!;

    public IServiceProvider Services => _app.Services;

    public ITraceStore Store => Services.GetRequiredService<ITraceStore>();

    public static async Task<GatewayHost> StartAsync(FakeUpstream? upstream, IDictionary<string, string?>? settings = null, Action<WebApplicationBuilder>? configure = null)
    {
        var folder = Path.Combine(Path.GetTempPath(), "llmtrace-tests", Guid.NewGuid().ToString("N"));
        var values = new Dictionary<string, string?>
        {
            ["urls"] = "http://127.0.0.1:0",
            ["LlmTrace:Sqlite:Path"] = Path.Combine(folder, "traces.db"),
            // Tests seed traces with fixed past dates; the minute purge must not delete them mid-test.
            ["LlmTrace:Sqlite:RetentionDays"] = "0",
        };
        if (upstream is not null)
        {
            var origin = upstream.BaseAddress.GetLeftPart(UriPartial.Authority);
            values["LlmTrace:Upstreams:Default"] = origin;
            values["LlmTrace:Upstreams:AzureOpenAI"] = origin;
            values["LlmTrace:Upstreams:Anthropic"] = origin;
            values["LlmTrace:Upstreams:Gemini"] = origin;
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        var app = SelfHostApp.Build([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(values);
            builder.Logging.ClearProviders();
            configure?.Invoke(builder);
        });
        await app.StartAsync();
        var host = new GatewayHost(app, folder)
        {
            BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()),
        };
        return host;
    }

    public HttpClient CreateClient() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>Waits until the consumer has written the trace (capture is asynchronous by design).</summary>
    public async Task<Trace> WaitForTraceAsync(Guid traceId, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var trace = await Store.GetAsync(traceId, CancellationToken.None);
            if (trace is not null)
            {
                return trace;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Trace {traceId} was not stored in time.");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Waits for the traces of one tenant, newest first.</summary>
    public async Task<IReadOnlyList<Trace>> WaitForTenantTracesAsync(Guid tenantId, int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var page = await Store.QueryAsync(new TraceQuery { TenantId = tenantId, Limit = TraceQuery.MaxLimit }, CancellationToken.None);
            if (page.Items.Count >= count)
            {
                return page.Items;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Tenant {tenantId}: {page.Items.Count} of {count} traces stored in time.");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Stops the host as a shutdown would (server first, then the capture drain); the store stays readable.</summary>
    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by the OS is cleaned with the temp folder.
        }
    }
}

/// <summary>A fake upstream and a gateway in front of it, shared by the tests of one class.</summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    public FakeUpstream Upstream { get; private set; } = null!;

    public GatewayHost Gateway { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Upstream = await FakeUpstream.StartAsync();
        Gateway = await GatewayHost.StartAsync(Upstream);
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}
