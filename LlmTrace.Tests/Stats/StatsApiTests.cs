using System.Net;
using System.Text.Json;
using LlmTrace.Tests.Infrastructure;

namespace LlmTrace.Tests.Stats;

/// <summary><c>GET /api/stats</c> on SelfHost: counts what happened per bucket, keeps tenants apart, refuses bad ranges.</summary>
public sealed class StatsApiTests : IAsyncLifetime
{
    private const string AdminKey = "stats-api-admin";
    private FakeUpstream _upstream = null!;
    private GatewayHost _gateway = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _gateway = await GatewayHost.StartAsync(_upstream, new Dictionary<string, string?> { ["LlmTrace:AdminKey"] = AdminKey });
        _http = _gateway.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private ApiClient Admin => new(_http, AdminKey);

    [Fact]
    public async Task Stats_CountCallsErrorsAndFindings_PerTenantAndForAll()
    {
        var a = await NewTenantAsync("stats-a");
        var b = await NewTenantAsync("stats-b");
        var aKey = await NewKeyAsync(a, "app");
        var bKey = await NewKeyAsync(b, "app");
        await CallAsync(aKey, "planner");
        await CallAsync(aKey, "writer", content: "My card is 4111 1111 1111 1111");
        await CallAsync(aKey, "writer", mode: "status:500");
        await CallAsync(bKey, "other");

        var aStats = await PollAsync(new ApiClient(_http, await NewKeyAsync(a, "viewer")), "/api/stats", expected: 3);
        var all = await PollAsync(Admin, "/api/stats?bucket=minute", expected: 4);
        var otherTenant = await new ApiClient(_http, await NewKeyAsync(a, "viewer")).GetAsync($"/api/stats?tenantId={b}");

        var totals = aStats.GetProperty("totals");
        Assert.Equal(a, aStats.GetProperty("tenantId").GetGuid());
        Assert.Equal(1, totals.GetProperty("serverErrors").GetInt64());
        Assert.Equal(1, totals.GetProperty("flaggedRequests").GetInt64());
        Assert.True(totals.GetProperty("costUsd").GetDecimal() > 0);
        Assert.True(totals.GetProperty("latencyP50Ms").GetDouble() > 0);
        Assert.Equal("minute", aStats.GetProperty("bucket").GetString());
        // The last hour by minute, empty minutes included: 60 whole minutes and (almost always) the one under way.
        Assert.InRange(aStats.GetProperty("points").GetArrayLength(), 60, 61);
        Assert.Equal(3, aStats.GetProperty("points").EnumerateArray().Sum(p => p.GetProperty("requests").GetInt64()));
        Assert.Equal(["writer", "planner"], aStats.GetProperty("agents").EnumerateArray().Select(r => r.GetProperty("name").GetString()));
        Assert.False(aStats.TryGetProperty("tenants", out _));
        Assert.Contains(all.GetProperty("tenants").EnumerateArray(), t => t.GetProperty("name").GetString() == b.ToString());
        Assert.Equal(HttpStatusCode.Forbidden, otherTenant.Status);
    }

    [Theory]
    [InlineData("bucket=week", "bucket")]
    [InlineData("from=2027-01-01T00:00:00Z&to=2027-03-01T00:00:00Z&bucket=minute", "bucket")]
    [InlineData("from=2027-03-01T00:00:00Z&to=2027-01-01T00:00:00Z", "from")]
    [InlineData("from=yesterday", "from")]
    public async Task Stats_BadRange_IsA400NamingTheField(string query, string field)
    {
        var reply = await Admin.GetAsync("/api/stats?" + query);

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal(field, reply.Json.GetProperty("error").GetProperty("param").GetString());
    }

    private static async Task<JsonElement> PollAsync(ApiClient client, string path, long expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var reply = await client.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, reply.Status);
            if (reply.Json.GetProperty("totals").GetProperty("requests").GetInt64() >= expected || DateTime.UtcNow > deadline)
            {
                Assert.Equal(expected, reply.Json.GetProperty("totals").GetProperty("requests").GetInt64());
                return reply.Json;
            }

            await Task.Delay(50);
        }
    }

    private async Task<Guid> NewTenantAsync(string name)
    {
        var reply = await Admin.PostAsync("/api/tenants", $$"""{"name":"{{name}}"}""");
        Assert.Equal(HttpStatusCode.Created, reply.Status);
        return reply.Json.GetProperty("tenantId").GetGuid();
    }

    private async Task<string> NewKeyAsync(Guid tenant, string role)
    {
        var reply = await Admin.PostAsync($"/api/tenants/{tenant}/keys", $$"""{"roles":["{{role}}"]}""");
        Assert.Equal(HttpStatusCode.Created, reply.Status);
        return reply.Json.GetProperty("secret").GetString()!;
    }

    private async Task CallAsync(string gatewayKey, string agent, string content = "Say hello", string? mode = null)
    {
        var headers = new Dictionary<string, string> { ["x-llmtrace-key"] = gatewayKey };
        if (mode is not null)
        {
            headers["x-fake-mode"] = mode;
        }

        await new ApiClient(_http, TestKeys.NewKey()).ChatAsync(agent, content: content, headers: headers);
    }
}
