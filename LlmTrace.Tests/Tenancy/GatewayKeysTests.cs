using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Text.Json;
using LlmTrace.Tests.Infrastructure;
using OpenAI;
using OpenAI.Chat;

namespace LlmTrace.Tests.Tenancy;

/// <summary><c>gateway-keys</c> mode on SelfHost: keys from the API, provider credentials substituted, refusals before forwarding.</summary>
public sealed class GatewayKeysTests : IAsyncLifetime
{
    private const string AdminKey = "admin-secret-for-tests";
    private const string OpenAIKey = "sk-server-side-openai";
    private const string AnthropicKey = "sk-ant-server-side";
    private FakeUpstream _upstream = null!;
    private GatewayHost _gateway = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _gateway = await GatewayHost.StartAsync(_upstream, new Dictionary<string, string?>
        {
            ["LlmTrace:AdminKey"] = AdminKey,
            ["LlmTrace:Auth:Mode"] = "gateway-keys",
            // The fake upstream is not api.openai.com, so calls on /v1 are openai-compatible and use that credential;
            // the OpenAI one must never be sent to another host.
            ["LlmTrace:ProviderKeys:OpenAI"] = "sk-real-openai-never-sent",
            ["LlmTrace:ProviderKeys:OpenAICompatible"] = OpenAIKey,
            ["LlmTrace:ProviderKeys:Anthropic"] = AnthropicKey,
            ["LlmTrace:ProviderKeys:team-b-openai"] = "sk-team-b",
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

    [Fact]
    public async Task OpenAISdk_WithAGatewayKey_ReachesTheUpstreamWithTheServerCredentialOnly()
    {
        var (tenantId, key) = await NewTenantWithKeyAsync("team-a");
        var client = new ChatClient("gpt-4o-mini", new ApiKeyCredential(key), new OpenAIClientOptions
        {
            Endpoint = new Uri(_gateway.BaseAddress, "/v1"),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        });

        var result = await client.CompleteChatAsync([new UserChatMessage("Say hello")], new ChatCompletionOptions { EndUserId = "marker-" + tenantId });

        Assert.False(string.IsNullOrEmpty(result.Value.Content[0].Text));
        var forwarded = _upstream.Requests.Last(r => r.BodyText.Contains("marker-" + tenantId, StringComparison.Ordinal));
        Assert.Equal("Bearer " + OpenAIKey, forwarded.Header("Authorization"));
        Assert.DoesNotContain(forwarded.Headers, h => h.Value.Contains("ltk_", StringComparison.Ordinal));
        Assert.DoesNotContain(_upstream.Requests, r => r.Headers.Any(h => h.Value.Contains("sk-real-openai-never-sent", StringComparison.Ordinal)));
        var traceId = Guid.Parse(result.GetRawResponse().Headers.TryGetValue("x-llmtrace-trace-id", out var id) ? id! : throw new InvalidOperationException());
        Assert.Equal(tenantId, (await _gateway.WaitForTraceAsync(traceId)).TenantId);
    }

    [Fact]
    public async Task Anthropic_XApiKeyGatewayKey_IsReplacedByTheAnthropicCredential()
    {
        var (_, key) = await NewTenantWithKeyAsync("team-claude");
        var marker = Guid.NewGuid().ToString("N");

        var reply = await new ApiClient(_http).SendAsync(HttpMethod.Post, "/anthropic/v1/messages",
            $$"""{"model":"claude-sonnet-4-5","max_tokens":50,"messages":[{"role":"user","content":"hi {{marker}}"}]}""",
            new Dictionary<string, string> { ["x-api-key"] = key, ["anthropic-version"] = "2023-06-01" });

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        var forwarded = _upstream.Requests.Last(r => r.BodyText.Contains(marker, StringComparison.Ordinal));
        Assert.Equal(AnthropicKey, forwarded.Header("x-api-key"));
        Assert.Null(forwarded.Header("Authorization"));
    }

    [Fact]
    public async Task TenantProviderKeyOverride_SendsThatTenantsOwnCredential()
    {
        var (tenantId, key) = await NewTenantWithKeyAsync("team-b");
        Assert.Equal(HttpStatusCode.OK, (await Admin.PatchAsync($"/api/tenants/{tenantId}", """{"providerKeys":{"openai-compatible":"team-b-openai"}}""")).Status);
        var marker = Guid.NewGuid().ToString("N");

        var reply = await new ApiClient(_http, key).ChatAsync(content: marker);

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal("Bearer sk-team-b", _upstream.Requests.Last(r => r.BodyText.Contains(marker, StringComparison.Ordinal)).Header("Authorization"));
    }

    [Theory]
    [InlineData(null, "missing_api_key")]
    [InlineData("sk-a-provider-key-is-not-enough", "missing_api_key")]
    [InlineData("ltk_abcdefghijkm_ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopq", "invalid_api_key")]
    [InlineData("ltk_garbage", "invalid_api_key")]
    public async Task MissingOrUnknownKey_Is401InOpenAIShape_AndNothingIsForwarded(string? credential, string code)
    {
        var marker = Guid.NewGuid().ToString("N");

        var reply = await new ApiClient(_http, credential).ChatAsync(content: marker);

        Assert.Equal(HttpStatusCode.Unauthorized, reply.Status);
        Assert.Equal(code, reply.ErrorCode);
        Assert.Equal("authentication_error", reply.Json.GetProperty("error").GetProperty("type").GetString());
        Assert.DoesNotContain(_upstream.Requests, r => r.BodyText.Contains(marker, StringComparison.Ordinal));
        Assert.NotNull(reply.Header("x-llmtrace-trace-id"));
    }

    [Fact]
    public async Task RevokedKey_IsRefusedOnTheVeryNextCall()
    {
        var (tenantId, key) = await NewTenantWithKeyAsync("to-revoke");
        var app = new ApiClient(_http, key);
        Assert.Equal(HttpStatusCode.OK, (await app.ChatAsync()).Status);
        var keyId = key.Split('_')[1];

        var revoke = await Admin.DeleteAsync($"/api/tenants/{tenantId}/keys/{keyId}");
        var after = await app.ChatAsync();
        var listed = await Admin.GetAsync($"/api/tenants/{tenantId}/keys");

        Assert.Equal(HttpStatusCode.NoContent, revoke.Status);
        Assert.Equal(HttpStatusCode.Unauthorized, after.Status);
        var item = listed.Json.GetProperty("items").EnumerateArray().Single();
        Assert.NotEqual(JsonValueKind.Null, item.GetProperty("revokedAt").ValueKind);
        Assert.NotEqual(JsonValueKind.Null, item.GetProperty("lastUsedAt").ValueKind);
        Assert.False(item.TryGetProperty("hash", out _));
        Assert.False(item.TryGetProperty("salt", out _));
        Assert.Equal(key[^4..], item.GetProperty("lastFour").GetString());
    }

    [Fact]
    public async Task ViewerKey_CannotMakeCalls()
    {
        var (tenantId, _) = await NewTenantWithKeyAsync("viewer-team");
        var viewer = await Admin.PostAsync($"/api/tenants/{tenantId}/keys", """{"roles":["viewer"]}""");

        var reply = await new ApiClient(_http, viewer.Json.GetProperty("secret").GetString()).ChatAsync();

        Assert.Equal(HttpStatusCode.Forbidden, reply.Status);
        Assert.Equal("key_cannot_proxy", reply.ErrorCode);
    }

    [Fact]
    public async Task ProviderWithoutACredential_Is503NamingTheSetting()
    {
        var (_, key) = await NewTenantWithKeyAsync("gemini-team");

        var reply = await new ApiClient(_http).SendAsync(HttpMethod.Post, "/gemini/v1beta/models/gemini-2.5-flash:generateContent",
            """{"contents":[{"parts":[{"text":"hi"}]}]}""", new Dictionary<string, string> { ["x-goog-api-key"] = key });

        Assert.Equal(HttpStatusCode.ServiceUnavailable, reply.Status);
        Assert.Contains("LlmTrace__ProviderKeys__Gemini", reply.Json.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(OpenAIKey, reply.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PerKeyRateLimit_StopsThatKeyOnly()
    {
        var (tenantId, unlimited) = await NewTenantWithKeyAsync("per-key");
        var limited = (await Admin.PostAsync($"/api/tenants/{tenantId}/keys", """{"name":"batch","rateLimits":{"requestsPerMinute":1}}""")).Json.GetProperty("secret").GetString();

        var first = await new ApiClient(_http, limited).ChatAsync();
        var second = await new ApiClient(_http, limited).ChatAsync();
        var otherKey = await new ApiClient(_http, unlimited).ChatAsync();

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.Status);
        Assert.Equal("1", second.Header("x-ratelimit-limit-requests"));
        Assert.Contains("this key", second.Json.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, otherKey.Status);
    }

    [Fact]
    public async Task TenantHeader_CannotMoveAKeysCallsToAnotherTenant()
    {
        var (tenantA, keyA) = await NewTenantWithKeyAsync("owner");
        var (tenantB, _) = await NewTenantWithKeyAsync("victim");

        var reply = await new ApiClient(_http, keyA).ChatAsync(headers: new Dictionary<string, string> { ["X-LLMTrace-Tenant-ID"] = tenantB.ToString() });

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        var trace = await _gateway.WaitForTraceAsync(Guid.Parse(reply.Header("x-llmtrace-trace-id")!));
        Assert.Equal(tenantA, trace.TenantId);
    }

    private async Task<(Guid TenantId, string Key)> NewTenantWithKeyAsync(string name)
    {
        var tenant = await Admin.PostAsync("/api/tenants", $$"""{"name":"{{name}}"}""");
        Assert.Equal(HttpStatusCode.Created, tenant.Status);
        var tenantId = tenant.Json.GetProperty("tenantId").GetGuid();
        var key = await Admin.PostAsync($"/api/tenants/{tenantId}/keys", """{"name":"app"}""");
        Assert.Equal(HttpStatusCode.Created, key.Status);
        return (tenantId, key.Json.GetProperty("secret").GetString()!);
    }
}
