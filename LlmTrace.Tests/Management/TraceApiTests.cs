using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using LlmTrace.Domain.Capture;
using LlmTrace.Tests.Infrastructure;

namespace LlmTrace.Tests.Management;

/// <summary>The read side on SelfHost: listing with filters and continuation tokens, single traces, health and access control.</summary>
public sealed class TraceApiTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task ListTraces_PagedWithContinuationTokens_ReturnsEveryTraceOnceNewestFirst()
    {
        var tenant = Guid.NewGuid();
        var seeded = await SeedAsync(tenant, 25);
        using var http = fixture.Gateway.CreateClient();
        var seen = new List<Guid>();
        string? token = null;
        var pages = 0;
        do
        {
            var url = $"/api/traces?tenantId={tenant}&limit=10" + (token is null ? "" : "&continuationToken=" + Uri.EscapeDataString(token));
            var page = await GetPageAsync(http, url);
            seen.AddRange(page.Items.Select(t => t.TraceId));
            token = page.ContinuationToken;
            pages++;
        }
        while (token is not null);

        Assert.Equal(3, pages);
        Assert.Equal(seeded.OrderByDescending(t => t.StartedAt).ThenByDescending(t => t.TraceId).Select(t => t.TraceId), seen);
    }

    [Theory]
    [InlineData("/api/traces")]
    [InlineData("/api/tenants")]
    [InlineData("/api/audit")]
    [InlineData("/api/findings")]
    [InlineData("/api/poison")]
    public async Task EveryList_FollowsOnePagingRule(string route)
    {
        using var http = fixture.Gateway.CreateClient();

        var statuses = new List<HttpStatusCode>();
        foreach (var limit in new[] { "0", "1001", "ten", "1000", "1" })
        {
            using var response = await http.GetAsync($"{route}?limit={limit}");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.BadRequest)
            {
                using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                Assert.Contains("1 to 1000", error.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
            }
        }

        Assert.Equal([HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.OK, HttpStatusCode.OK], statuses);
    }

    [Theory]
    [InlineData("model=gpt-4o", 13)]
    [InlineData("model=GPT-4O", 13)]
    [InlineData("provider=anthropic", 12)]
    [InlineData("agentId=agent-1", 9)]
    [InlineData("since=2026-03-01T12:10:00Z", 15)]
    [InlineData("until=2026-03-01T12:10:00Z", 10)]
    [InlineData("since=2026-03-01T12:05:00Z&until=2026-03-01T12:07:00Z&model=gpt-4o", 1)]
    public async Task ListTraces_Filter_ReturnsOnlyMatchingTraces(string filter, int expected)
    {
        var tenant = Guid.NewGuid();
        await SeedAsync(tenant, 25);
        using var http = fixture.Gateway.CreateClient();

        var page = await GetPageAsync(http, $"/api/traces?tenantId={tenant}&limit=1000&{filter}");

        Assert.Equal(expected, page.Items.Count);
        Assert.Null(page.ContinuationToken);
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("tenantId=not-a-uuid", "tenantId")]
    [InlineData("provider=azure", "provider")]
    [InlineData("since=yesterday", "since")]
    [InlineData("continuationToken=bm90LWEtdG9rZW4", "continuationToken")]
    public async Task ListTraces_InvalidParameter_Returns400NamingIt(string query, string param)
    {
        using var http = fixture.Gateway.CreateClient();

        using var response = await http.GetAsync("/api/traces?" + query);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(param, json.RootElement.GetProperty("error").GetProperty("param").GetString());
        Assert.Equal("invalid_request_error", json.RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task GetTrace_KnownUnknownAndMalformedIds_Return200_404_400()
    {
        var tenant = Guid.NewGuid();
        var seeded = await SeedAsync(tenant, 1);
        using var http = fixture.Gateway.CreateClient();

        var found = JsonSerializer.Deserialize(await http.GetStringAsync($"/api/traces/{seeded[0].TraceId}"), CaptureJsonContext.Default.Trace);
        using var missing = await http.GetAsync($"/api/traces/{Guid.NewGuid()}");
        using var malformed = await http.GetAsync("/api/traces/123");

        Assert.Equal(seeded[0], found! with { ToolCalls = seeded[0].ToolCalls, Findings = seeded[0].Findings });
        Assert.Equal(seeded[0].ToolCalls, found.ToolCalls);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
    }

    [Fact]
    public async Task Trace_Json_UsesTheDocumentedCamelCaseFields()
    {
        var seeded = await SeedAsync(Guid.NewGuid(), 1);
        using var http = fixture.Gateway.CreateClient();

        using var json = JsonDocument.Parse(await http.GetStringAsync($"/api/traces/{seeded[0].TraceId}"));

        string[] fields = ["traceId", "tenantId", "agentId", "provider", "model", "endpoint", "method", "statusCode", "streaming", "startedAt", "durationMs",
            "ttftMs", "promptTokens", "completionTokens", "totalTokens", "usageEstimated", "prompt", "response", "toolCalls", "requestBytes", "responseBytes",
            "clientCancelled", "error"];
        foreach (var field in fields)
        {
            Assert.True(json.RootElement.TryGetProperty(field, out _), field);
        }
    }

    [Fact]
    public async Task Health_ReportsEachDependency()
    {
        using var http = fixture.Gateway.CreateClient();

        using var response = await http.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("healthy", json.RootElement.GetProperty("status").GetString());
        var dependencies = json.RootElement.GetProperty("dependencies");
        Assert.Equal("healthy", dependencies.GetProperty("traceStore").GetProperty("status").GetString());
        Assert.Equal("healthy", dependencies.GetProperty("captureQueue").GetProperty("status").GetString());
        Assert.Equal("Process", dependencies.GetProperty("captureQueue").GetProperty("journal").GetString());
        Assert.True(int.TryParse(dependencies.GetProperty("captureQueue").GetProperty("journalOutstanding").GetString(), out var outstanding) && outstanding >= 0);
        Assert.Equal(fixture.Upstream.BaseAddress.GetLeftPart(UriPartial.Authority), dependencies.GetProperty("upstreams").GetProperty("v1").GetString());
    }

    [Fact]
    public async Task ManagementRoutes_WithAdminKeySet_NeedTheBearerKey()
    {
        await using var gateway = await GatewayHost.StartAsync(null, new Dictionary<string, string?> { ["LlmTrace:AdminKey"] = "admin-secret" });
        using var http = gateway.CreateClient();

        using var none = await http.GetAsync("/api/traces");
        using var wrong = await SendAsync(http, "/api/traces", "not-it");
        using var right = await SendAsync(http, "/api/traces", "admin-secret");
        using var rightForOne = await SendAsync(http, $"/api/traces/{Guid.NewGuid()}", "admin-secret");
        using var health = await http.GetAsync("/health");

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, rightForOne.StatusCode);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, string path, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return await http.SendAsync(request);
    }

    private static async Task<TracePage> GetPageAsync(HttpClient http, string url)
    {
        var body = await http.GetStringAsync(url);
        return JsonSerializer.Deserialize(body, CaptureJsonContext.Default.TracePage)!;
    }

    private async Task<List<Trace>> SeedAsync(Guid tenant, int count)
    {
        var traces = Enumerable.Range(0, count).Select(i => new Trace
        {
            TraceId = Guid.NewGuid(),
            TenantId = tenant,
            AgentId = i % 3 == 0 ? "agent-1" : "agent-2",
            Provider = i % 2 == 0 ? "openai" : "anthropic",
            Model = i % 2 == 0 ? "gpt-4o" : "claude-sonnet-4-5",
            Endpoint = "/v1/chat/completions",
            Method = "POST",
            StatusCode = 200,
            // Two traces share each minute, so ties on startedAt are paged by trace id.
            StartedAt = Start.AddMinutes(i / 2 * 2),
            DurationMs = 12.5,
            TtftMs = 3,
            PromptTokens = 10,
            CompletionTokens = 5,
            TotalTokens = 15,
            Prompt = "user: hi",
            Response = "hello",
            ToolCalls = [new ToolCall { Id = "c1", Name = "f", Arguments = "{}", Source = "response" }],
        }).ToList();
        await fixture.Gateway.Store.UpsertAsync(traces, CancellationToken.None);
        return traces;
    }
}
