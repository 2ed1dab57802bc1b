using System.Net;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Records;
using LlmTrace.Domain.Tenancy;
using LlmTrace.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LlmTrace.Tests.Tenancy;

/// <summary>
/// Where refused calls are recorded, the refusal limit for unauthenticated traffic, the management API's cross-site
/// guards and credentials in logs: each hole an attacker could use, tried against the real SelfHost.
/// </summary>
public sealed class TenantIsolationTests : IAsyncLifetime
{
    private const string AdminKey = "admin-secret-for-isolation-tests";
    private FakeUpstream _upstream = null!;
    private GatewayHost _gateway = null!;
    private HttpClient _http = null!;
    private readonly CapturedLogs _logs = new();
    private readonly FlakyRecordStore _records = new();

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _gateway = await GatewayHost.StartAsync(_upstream, new Dictionary<string, string?>
        {
            ["LlmTrace:AdminKey"] = AdminKey,
            ["LlmTrace:Auth:Mode"] = "gateway-keys",
            ["LlmTrace:ProviderKeys:OpenAICompatible"] = "sk-server-side-openai",
            ["LlmTrace:Upstreams:AzureOpenAI"] = string.Empty,
            ["LlmTrace:Auth:RefusalsPerMinute"] = "1000",
        }, builder =>
        {
            builder.Services.AddSingleton<IRecordStore>(_records);
            builder.Logging.AddProvider(_logs);
            // Information everywhere, as a host started outside its folder (no appsettings.json) runs.
            builder.Logging.SetMinimumLevel(LogLevel.Information);
            builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Information);
        });
        _http = _gateway.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private ApiClient Admin => new(_http, AdminKey);

    public static TheoryData<string, string, HttpStatusCode, string> RefusalsBeforeAuthentication => new()
    {
        { "POST", "/v1x/chat", HttpStatusCode.NotFound, "route_not_found" },
        { "POST", "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", HttpStatusCode.ServiceUnavailable, "upstream_not_configured" },
        { "POST", "/v1/chat/completions", HttpStatusCode.Unauthorized, "missing_api_key" },
    };

    [Theory]
    [MemberData(nameof(RefusalsBeforeAuthentication))]
    public async Task RefusalBeforeAuthentication_IsRecordedUnderTheDefaultTenant_NotTheNamedOne(string method, string path, HttpStatusCode status, string code)
    {
        var (victim, _) = await NewTenantWithKeyAsync("victim", "app");

        var reply = await new ApiClient(_http).SendAsync(new HttpMethod(method), path, """{"model":"gpt-4o-mini","messages":[]}""",
            new Dictionary<string, string> { [TenantResolver.TenantHeader] = victim.ToString(), [TenantResolver.AgentHeader] = "INJECTED" });

        Assert.Equal(status, reply.Status);
        Assert.Equal(code, reply.ErrorCode);
        var trace = await _gateway.WaitForTraceAsync(Guid.Parse(reply.Header("x-llmtrace-trace-id")!));
        Assert.Equal(TenantResolver.DefaultTenantId, trace.TenantId);
        Assert.Null(trace.AgentId);
        Assert.Empty((await _gateway.Store.QueryAsync(new TraceQuery { TenantId = victim, Limit = 10 }, CancellationToken.None)).Items);
    }

    [Fact]
    public async Task UnknownKey_IsRecordedUnderTheDefaultTenant()
    {
        var (victim, _) = await NewTenantWithKeyAsync("victim-unknown-key", "app");

        var reply = await new ApiClient(_http, "ltk_abcdefghijkm_ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopq").ChatAsync(agent: "INJECTED",
            headers: new Dictionary<string, string> { [TenantResolver.TenantHeader] = victim.ToString() });

        Assert.Equal(HttpStatusCode.Unauthorized, reply.Status);
        var trace = await _gateway.WaitForTraceAsync(Guid.Parse(reply.Header("x-llmtrace-trace-id")!));
        Assert.Equal(TenantResolver.DefaultTenantId, trace.TenantId);
        Assert.Null(trace.AgentId);
    }

    [Fact]
    public async Task ViewerKeyProxying_IsRecordedUnderTheKeysOwnTenant_WhateverTenantItNames()
    {
        var (victim, _) = await NewTenantWithKeyAsync("victim-viewer", "app");
        var (own, viewerKey) = await NewTenantWithKeyAsync("viewer-owner", "viewer");

        var reply = await new ApiClient(_http, viewerKey).ChatAsync(agent: "INJECTED",
            headers: new Dictionary<string, string> { [TenantResolver.TenantHeader] = victim.ToString() });

        Assert.Equal(HttpStatusCode.Forbidden, reply.Status);
        Assert.Equal("key_cannot_proxy", reply.ErrorCode);
        var trace = await _gateway.WaitForTraceAsync(Guid.Parse(reply.Header("x-llmtrace-trace-id")!));
        Assert.Equal(own, trace.TenantId);
        Assert.Empty((await _gateway.Store.QueryAsync(new TraceQuery { TenantId = victim, Limit = 10 }, CancellationToken.None)).Items);
    }

    [Fact]
    public async Task FaultDuringAuthentication_IsA500RecordedUnderTheDefaultTenant()
    {
        var (victim, key) = await NewTenantWithKeyAsync("victim-fault", "app");
        _records.FailKeyReads = true;
        try
        {
            var reply = await new ApiClient(_http, key).ChatAsync(agent: "INJECTED",
                headers: new Dictionary<string, string> { [TenantResolver.TenantHeader] = victim.ToString() });

            Assert.Equal(HttpStatusCode.InternalServerError, reply.Status);
            Assert.Equal("gateway_error", reply.ErrorCode);
            var trace = await _gateway.WaitForTraceAsync(Guid.Parse(reply.Header("x-llmtrace-trace-id")!));
            Assert.Equal(TenantResolver.DefaultTenantId, trace.TenantId);
            Assert.Null(trace.AgentId);
        }
        finally
        {
            _records.FailKeyReads = false;
        }
    }

    [Fact]
    public async Task AuthenticatedCall_IsRecordedUnderTheKeysTenant_WithItsAgent()
    {
        var (tenant, key) = await NewTenantWithKeyAsync("honest", "app");

        var reply = await new ApiClient(_http, key).ChatAsync(agent: "billing-bot");

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        var trace = await _gateway.WaitForTraceAsync(Guid.Parse(reply.Header("x-llmtrace-trace-id")!));
        Assert.Equal(tenant, trace.TenantId);
        Assert.Equal("billing-bot", trace.AgentId);
    }

    [Fact]
    public async Task CrossSitePostWithJsonInAParameter_IsRefusedAsNotJson()
    {
        // What a browser sends cross-site without a preflight: text/plain, with "json" only in a parameter.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/tenants") { Content = new ByteArrayContent("{\"name\":\"sneaky\"}"u8.ToArray()) };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminKey);
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "text/plain;charset=json");
        using var response = await _http.SendAsync(request);
        var reply = new { Status = response.StatusCode, ErrorCode = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString() };
        var plus = await Admin.SendAsync(HttpMethod.Post, "/api/tenants", """{"name":"vendor-type"}""", contentType: "application/vnd.llmtrace+json");

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, reply.Status);
        Assert.Equal("unsupported_media_type", reply.ErrorCode);
        Assert.Equal(HttpStatusCode.Created, plus.Status);
    }

    [Theory]
    [InlineData("Flag", "flag")]
    [InlineData("BLOCK", "block")]
    [InlineData("log", "log")]
    public async Task EnforcementPolicies_AreAcceptedInAnyCase(string sent, string stored)
    {
        var reply = await Admin.PostAsync("/api/tenants", $$"""{"name":"policies","enforcementPolicies":{"prompt_injection":"{{sent}}"},"monitoringScope":"Input_Only"}""");

        Assert.Equal(HttpStatusCode.Created, reply.Status);
        Assert.Equal(stored, reply.Json.GetProperty("enforcementPolicies").GetProperty("prompt_injection").GetString());
        Assert.Equal("input_only", reply.Json.GetProperty("monitoringScope").GetString());
    }

    [Fact]
    public async Task UnknownEnforcementPolicy_IsStillA400()
    {
        var reply = await Admin.PostAsync("/api/tenants", """{"name":"policies","enforcementPolicies":{"prompt_injection":"explode"}}""");

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal("validation_failed", reply.ErrorCode);
    }

    [Fact]
    public async Task KeysInTheQuery_NeverReachTheLog_AtInformationLevel()
    {
        var (_, key) = await NewTenantWithKeyAsync("logged", "app");
        const string geminiKey = "AIzaSyD-this-is-a-fake-google-key-123456";

        await new ApiClient(_http).SendAsync(HttpMethod.Post, $"/v1/chat/completions?key={key}", """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""");
        await new ApiClient(_http).SendAsync(HttpMethod.Get, $"/gemini/v1beta/models?key={geminiKey}&pageSize=5");
        await new ApiClient(_http).SendAsync(HttpMethod.Get, $"/v1x/nothing?api-key={Uri.EscapeDataString(key)}");

        var lines = _logs.Lines.ToArray();
        Assert.Contains(lines, l => l.Contains("Request starting", StringComparison.Ordinal) && l.Contains("key=***", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("pageSize=5", StringComparison.Ordinal));
        var secret = key.Split('_')[2];
        Assert.DoesNotContain(lines, l => l.Contains(secret, StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains(geminiKey, StringComparison.Ordinal) || l.Contains("fake-google-key", StringComparison.Ordinal));
    }

    private async Task<(Guid TenantId, string Key)> NewTenantWithKeyAsync(string name, string role)
    {
        var tenant = await Admin.PostAsync("/api/tenants", $$"""{"name":"{{name}}"}""");
        Assert.Equal(HttpStatusCode.Created, tenant.Status);
        var tenantId = tenant.Json.GetProperty("tenantId").GetGuid();
        var key = await Admin.PostAsync($"/api/tenants/{tenantId}/keys", $$"""{"name":"{{role}}","roles":["{{role}}"]}""");
        Assert.Equal(HttpStatusCode.Created, key.Status);
        return (tenantId, key.Json.GetProperty("secret").GetString()!);
    }

    /// <summary>The in-memory record store, whose key lookups can be made to fail (a storage outage mid-call).</summary>
    private sealed class FlakyRecordStore : IRecordStore
    {
        private readonly InMemoryRecordStore _inner = new();

        public volatile bool FailKeyReads;

        public Task<StoredRecord?> GetAsync(string table, string partition, string key, CancellationToken cancellationToken)
            => FailKeyReads && table == RecordTables.GatewayKeys ? throw new IOException("record store unavailable") : _inner.GetAsync(table, partition, key, cancellationToken);

        public Task<RecordPage> ListAsync(string table, string partition, string? afterKey, int limit, CancellationToken cancellationToken)
            => _inner.ListAsync(table, partition, afterKey, limit, cancellationToken);

        public Task<string> InsertAsync(string table, string partition, string key, string json, CancellationToken cancellationToken)
            => _inner.InsertAsync(table, partition, key, json, cancellationToken);

        public Task<string> ReplaceAsync(string table, string partition, string key, string json, string etag, CancellationToken cancellationToken)
            => _inner.ReplaceAsync(table, partition, key, json, etag, cancellationToken);

        public Task<bool> DeleteAsync(string table, string partition, string key, CancellationToken cancellationToken)
            => _inner.DeleteAsync(table, partition, key, cancellationToken);
    }
}

/// <summary>The refusal limit for unauthenticated traffic, and the loopback administrator's cross-origin guard (no admin key).</summary>
public sealed class UnauthenticatedRefusalTests : IAsyncLifetime
{
    private FakeUpstream _upstream = null!;
    private GatewayHost _gateway = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _gateway = await GatewayHost.StartAsync(_upstream, new Dictionary<string, string?>
        {
            ["LlmTrace:Auth:Mode"] = "gateway-keys",
            ["LlmTrace:Auth:RefusalsPerMinute"] = "5",
        });
        _http = _gateway.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task RefusalsPastTheLimit_Are429WithRetryAfter_AndLeaveNoTrace()
    {
        var replies = new List<ApiReply>();
        for (var i = 0; i < 8; i++)
        {
            replies.Add(await new ApiClient(_http).SendAsync(HttpMethod.Post, i % 2 == 0 ? "/v1x/chat" : "/v1/chat/completions", "{}"));
        }

        var refused = replies.Where(r => r.Status == HttpStatusCode.TooManyRequests).ToList();
        Assert.Equal(5, replies.Count(r => r.Status is HttpStatusCode.NotFound or HttpStatusCode.Unauthorized));
        Assert.Equal(3, refused.Count);
        Assert.All(refused, r =>
        {
            Assert.Equal("too_many_refusals", r.ErrorCode);
            Assert.InRange(int.Parse(r.Header("retry-after")!, System.Globalization.CultureInfo.InvariantCulture), 1, 60);
        });
        var stored = await _gateway.WaitForTenantTracesAsync(TenantResolver.DefaultTenantId, 5);
        await Task.Delay(300);
        var all = (await _gateway.Store.QueryAsync(new TraceQuery { TenantId = TenantResolver.DefaultTenantId, Limit = 100 }, CancellationToken.None)).Items;
        Assert.True(all.Count == 5, string.Join("\n", all.Select(t => $"{t.Endpoint} {t.StatusCode} {t.Error}")));
        Assert.DoesNotContain(stored, t => refused.Any(r => r.Header("x-llmtrace-trace-id") == t.TraceId.ToString()));
    }

    [Theory]
    [InlineData("Origin", "http://evil.example")]
    [InlineData("Origin", "null")]
    [InlineData("Sec-Fetch-Site", "cross-site")]
    public async Task LoopbackAdministrator_RefusesPagesOfAnotherOrigin(string header, string value)
    {
        var reply = await new ApiClient(_http).SendAsync(HttpMethod.Post, "/api/tenants", """{"name":"csrf"}""", new Dictionary<string, string> { [header] = value });

        Assert.Equal(HttpStatusCode.Forbidden, reply.Status);
        Assert.Equal("cross_origin_refused", reply.ErrorCode);
    }

    [Theory]
    [InlineData("X-Forwarded-For", "203.0.113.9")]
    [InlineData("Forwarded", "for=203.0.113.9")]
    [InlineData("X-Real-IP", "203.0.113.9")]
    public async Task LoopbackAdministrator_IsNotGrantedThroughAReverseProxyOnTheSameMachine(string header, string value)
    {
        // nginx on the same host sends Host: 127.0.0.1:port from a loopback address: only its forwarding headers tell.
        var reply = await new ApiClient(_http).SendAsync(HttpMethod.Get, "/api/tenants", null, new Dictionary<string, string> { [header] = value });
        var traversal = await new ApiClient(_http).SendAsync(HttpMethod.Get, "/v1/../api/tenants", null, new Dictionary<string, string> { [header] = value });

        Assert.Equal((HttpStatusCode.Forbidden, "admin_key_not_configured"), (reply.Status, reply.ErrorCode));
        Assert.Equal((HttpStatusCode.Forbidden, "admin_key_not_configured"), (traversal.Status, traversal.ErrorCode));
    }

    [Fact]
    public async Task LoopbackAdministrator_AcceptsItsOwnOrigin_AndClientsThatSendNone()
    {
        var own = _gateway.BaseAddress.GetLeftPart(UriPartial.Authority);

        var sameOrigin = await new ApiClient(_http).SendAsync(HttpMethod.Post, "/api/tenants", """{"name":"ui"}""", new Dictionary<string, string> { ["Origin"] = own, ["Sec-Fetch-Site"] = "same-origin" });
        var curl = await new ApiClient(_http).PostAsync("/api/tenants", """{"name":"curl"}""");

        Assert.Equal(HttpStatusCode.Created, sameOrigin.Status);
        Assert.Equal(HttpStatusCode.Created, curl.Status);
    }
}
