using System.Net;
using System.Text;
using System.Text.Json;
using LlmTrace.Domain.Processing;
using LlmTrace.Functions;
using LlmTrace.Functions.Infrastructure;
using LlmTrace.Functions.Management;
using LlmTrace.Functions.Processing;
using LlmTrace.Functions.Proxy;
using LlmTrace.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LlmTrace.Tests.Azure;

/// <summary>
/// Two Functions hosts ("instances") over the same Azurite tables in gateway-keys mode: keys, revocation, rate limits
/// and hard caps hold across instances, as the Table Storage adapters promise.
/// </summary>
[Collection(AzuriteQueuesCollection.Name)]
public sealed class AzureTenancyTests : IAsyncLifetime
{
    private const string AdminKey = "azure-admin";
    private FakeUpstream _upstream = null!;
    private AzureStorageClients _clients = null!;
    private IHost _a = null!;
    private IHost _b = null!;

    // Both instances share one clock, set at the start of a minute: cache expiry and per-minute limits are deterministic.
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 10, 0, 5, TimeSpan.Zero));

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _clients = await Azurite.CreateClientsAsync(withQueues: true);
        var prefix = "t" + Guid.NewGuid().ToString("N")[..10];
        _a = await StartAsync(prefix);
        _b = await StartAsync(prefix);
    }

    public async Task DisposeAsync()
    {
        foreach (var host in new[] { _a, _b })
        {
            await host.StopAsync();
            host.Dispose();
        }

        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task KeyFromInstanceA_WorksOnB_AndItsRevocationReachesBWithinTheCacheInterval()
    {
        var (tenant, key) = await NewTenantAsync("""{"name":"shared"}""");

        var onB = await ProxyAsync(_b, key);
        var revoke = await ManageAsync(_a, "DELETE", $"tenants/{tenant}/keys/{key.Split('_')[1]}", null);
        _time.Advance(TimeSpan.FromSeconds(1.2)); // LlmTrace:Tenancy:CacheSeconds = 1 in these hosts
        var afterRevoke = await ProxyAsync(_b, key);
        var missing = await ProxyAsync(_b, null);

        Assert.Equal(200, onB.Response.StatusCode);
        Assert.Equal("Bearer sk-azure-openai", _upstream.Requests.Last().Header("Authorization"));
        Assert.Equal(204, revoke.Response.StatusCode);
        Assert.Equal(401, afterRevoke.Response.StatusCode);
        Assert.Equal(401, missing.Response.StatusCode);
    }

    [Fact]
    public async Task RequestsPerMinute_AcrossTwoInstances_NeverAdmitsMoreThanTheLimit()
    {
        var (_, key) = await NewTenantAsync("""{"name":"rpm","rateLimits":{"requestsPerMinute":10}}""");

        // The limit is per UTC minute; the shared clock stands still, so every call falls in the same window.
        var statuses = new List<int>();
        for (var i = 0; i < 16; i++)
        {
            statuses.Add((await ProxyAsync(i % 2 == 0 ? _a : _b, key)).Response.StatusCode);
        }

        Assert.Equal(10, statuses.Count(s => s == 200));
        Assert.Equal(6, statuses.Count(s => s == 429));
    }

    [Fact]
    public async Task HardCap_SpendAppliedFromInstanceA_StopsCallsOnInstanceB()
    {
        var (_, key) = await NewTenantAsync("""{"name":"capped","budgets":{"monthly":{"hardUsd":0.000005}}}""");

        var first = await ProxyAsync(_a, key);
        await _a.Services.GetRequiredService<ProcessingFunctions>().CostAsync(await ReceiveAsync(QueueNames.Captures), CancellationToken.None);
        var onB = await ProxyAsync(_b, key);

        Assert.Equal(200, first.Response.StatusCode);
        Assert.Equal(429, onB.Response.StatusCode);
        Assert.Equal("cost_cap_exceeded", Error(onB));
        Assert.True(int.Parse(onB.Response.Headers.RetryAfter!, System.Globalization.CultureInfo.InvariantCulture) > 0);
    }

    private async Task<IHost> StartAsync(string prefix)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["LlmTrace:Storage:ConnectionString"] = Azurite.ConnectionString,
            ["LlmTrace:Storage:RecordTablePrefix"] = prefix,
            ["LlmTrace:Storage:SpendTable"] = prefix + "spend",
            ["LlmTrace:Storage:AnomalyTable"] = prefix + "anomaly",
            ["LlmTrace:Storage:ClaimCheckContainer"] = prefix + "-claims",
            ["LlmTrace:Storage:ParkedContainer"] = prefix + "-parked",
            ["LlmTrace:Storage:PoisonContainer"] = prefix + "-poison",
            ["LlmTrace:AdminKey"] = AdminKey,
            ["LlmTrace:Auth:Mode"] = "gateway-keys",
            ["LlmTrace:ProviderKeys:OpenAICompatible"] = "sk-azure-openai",
            ["LlmTrace:Tenancy:CacheSeconds"] = "1",
        });
        builder.Configuration["LlmTrace:Upstreams:Default"] = _upstream.BaseAddress.ToString();
        builder.Services.AddSingleton<TimeProvider>(_time);
        builder.AddGateway();
        var host = builder.Build();
        var clients = host.Services.GetRequiredService<AzureStorageClients>();
        await clients.Spend.CreateIfNotExistsAsync();
        await clients.Anomaly.CreateIfNotExistsAsync();
        await clients.ClaimChecks.CreateIfNotExistsAsync();
        await host.StartAsync();
        return host;
    }

    private async Task<(Guid Tenant, string Key)> NewTenantAsync(string json)
    {
        var tenant = await ManageAsync(_a, "POST", "tenants", json);
        Assert.Equal(201, tenant.Response.StatusCode);
        var tenantId = JsonDocument.Parse(Body(tenant)).RootElement.GetProperty("tenantId").GetGuid();
        var key = await ManageAsync(_a, "POST", $"tenants/{tenantId}/keys", "{}");
        Assert.Equal(201, key.Response.StatusCode);
        return (tenantId, JsonDocument.Parse(Body(key)).RootElement.GetProperty("secret").GetString()!);
    }

    private static async Task<DefaultHttpContext> ManageAsync(IHost host, string method, string path, string? body)
    {
        var context = FunctionRequests.Create(host.Services, method, "/api/" + path, body, new MemoryStream());
        context.Request.Headers.Authorization = "Bearer " + AdminKey;
        await host.Services.GetRequiredService<ManagementFunctions>().ManageAsync(context.Request, path);
        return context;
    }

    private static async Task<DefaultHttpContext> ProxyAsync(IHost host, string? key)
    {
        var context = FunctionRequests.Create(host.Services, "POST", "/v1/chat/completions",
            """{"model":"gpt-4o-mini","max_tokens":8,"messages":[{"role":"user","content":"hello"}]}""", new MemoryStream());
        if (key is not null)
        {
            context.Request.Headers.Authorization = "Bearer " + key;
        }

        await host.Services.GetRequiredService<ProxyFunctions>().OpenAIAsync(context.Request);
        return context;
    }

    private static string Body(DefaultHttpContext context) => Encoding.UTF8.GetString(((MemoryStream)context.Response.Body).ToArray());

    private static string? Error(DefaultHttpContext context)
        => JsonDocument.Parse(Body(context)).RootElement.GetProperty("error").GetProperty("code").GetString();

    private Task<string> ReceiveAsync(string queue) => Azurite.ReceiveAsync(_clients, queue);
}
