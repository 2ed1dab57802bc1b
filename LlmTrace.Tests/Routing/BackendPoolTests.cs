using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using LlmTrace.Domain.Routing;
using LlmTrace.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Chat;

namespace LlmTrace.Tests.Routing;

/// <summary>
/// Routes over pools of real loopback upstreams: priorities, failover on 429 and 5xx only before the first response
/// byte, cooling by <c>retry-after</c>, breakers, and Azure deployment mapping.
/// </summary>
public sealed class BackendPoolTests
{
    private const string Chat = "/v1/chat/completions";

    private static Dictionary<string, string?> Pool(params (FakeUpstream Upstream, string Name, int Priority)[] backends)
        => Pool("Default", backends);

    private static Dictionary<string, string?> Pool(string route, params (FakeUpstream Upstream, string Name, int Priority)[] backends)
    {
        var settings = new Dictionary<string, string?>();
        for (var i = 0; i < backends.Length; i++)
        {
            var prefix = $"LlmTrace:Upstreams:Pools:{route}:Backends:{i}:";
            settings[prefix + "Url"] = backends[i].Upstream.BaseAddress.GetLeftPart(UriPartial.Authority);
            settings[prefix + "Name"] = backends[i].Name;
            settings[prefix + "Priority"] = backends[i].Priority.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return settings;
    }

    private static string Body(bool stream = false)
        => $$"""{"model":"gpt-4o-mini","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"hello"}]}""";

    [Fact]
    public async Task ThrottledPrimary_IsCalledOnce_AndTheSecondaryServesEveryCall()
    {
        await using var primary = await FakeUpstream.StartAsync();
        await using var secondary = await FakeUpstream.StartAsync();
        primary.ForcedMode = "status:429";
        primary.RetryAfter = "30";
        await using var gateway = await GatewayHost.StartAsync(null, Pool((primary, "ptu", 0), (secondary, "paygo", 1)));
        var client = new ApiClient(gateway.CreateClient(), "sk-test");

        var replies = new List<ApiReply>();
        for (var i = 0; i < 20; i++)
        {
            replies.Add(await client.SendAsync(HttpMethod.Post, Chat, Body(stream: i % 2 == 1)));
        }

        Assert.All(replies, r => Assert.Equal(HttpStatusCode.OK, r.Status));
        Assert.Equal(1, primary.RequestCount);
        Assert.Equal(20, secondary.RequestCount);
        var first = await gateway.WaitForTraceAsync(Guid.Parse(replies[0].Header("x-llmtrace-trace-id")!));
        Assert.Equal("paygo", first.Backend);
        Assert.Equal([("ptu", (int?)429, "throttled"), ("paygo", 200, "served")], first.Attempts!.Select(a => (a.Backend, a.Status, a.Outcome)));
        var later = await gateway.WaitForTraceAsync(Guid.Parse(replies[5].Header("x-llmtrace-trace-id")!));
        Assert.Equal([("paygo", (int?)200, "served")], later.Attempts!.Select(a => (a.Backend, a.Status, a.Outcome)));
    }

    [Fact]
    public async Task EveryBackendThrottled_GivesOne429_WithTheSmallestRetryAfter_AndThenNoUpstreamCall()
    {
        await using var first = await FakeUpstream.StartAsync();
        await using var second = await FakeUpstream.StartAsync();
        first.ForcedMode = second.ForcedMode = "status:429";
        first.RetryAfter = "40";
        second.RetryAfter = "20";
        await using var gateway = await GatewayHost.StartAsync(null, Pool((first, "a", 0), (second, "b", 0)));
        var client = new ApiClient(gateway.CreateClient(), "sk-test");

        var throttled = await client.SendAsync(HttpMethod.Post, Chat, Body());
        var cooling = await client.SendAsync(HttpMethod.Post, Chat, Body());

        foreach (var reply in new[] { throttled, cooling })
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, reply.Status);
            Assert.Contains("all_backends_cooling", reply.Text, StringComparison.Ordinal);
            Assert.InRange(int.Parse(reply.Header("retry-after")!, System.Globalization.CultureInfo.InvariantCulture), 18, 20);
        }

        Assert.Equal((1, 1), (first.RequestCount, second.RequestCount));
    }

    [Fact]
    public async Task FailingBackend_OpensItsBreaker_IsLeftAlone_AndIsProbedAfterTheBreak()
    {
        await using var primary = await FakeUpstream.StartAsync();
        await using var secondary = await FakeUpstream.StartAsync();
        primary.ForcedMode = "status:503";
        var settings = Pool((primary, "primary", 0), (secondary, "secondary", 1));
        settings["LlmTrace:Breakers:BreakSeconds"] = "1";
        await using var gateway = await GatewayHost.StartAsync(null, settings);
        var client = new ApiClient(gateway.CreateClient(), "sk-test");

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(HttpMethod.Post, Chat, Body())).Status);
        }

        // The breaker opened after its minimum of 5 failures; from then on the primary is not called.
        Assert.Equal(5, primary.RequestCount);
        var health = await client.SendAsync(HttpMethod.Get, "/health");
        Assert.Contains("breaker open", health.Text, StringComparison.Ordinal);

        primary.ForcedMode = null;
        await Task.Delay(TimeSpan.FromSeconds(1.3));
        var probe = await client.SendAsync(HttpMethod.Post, Chat, Body());
        var trace = await gateway.WaitForTraceAsync(Guid.Parse(probe.Header("x-llmtrace-trace-id")!));

        Assert.Equal(HttpStatusCode.OK, probe.Status);
        Assert.Equal("primary", trace.Backend);
        Assert.Equal(6, primary.RequestCount);
    }

    [Fact]
    public async Task LastBackendsServerError_ReachesTheClientAsSent()
    {
        await using var first = await FakeUpstream.StartAsync();
        await using var second = await FakeUpstream.StartAsync();
        first.ForcedMode = second.ForcedMode = "status:502";
        await using var gateway = await GatewayHost.StartAsync(null, Pool((first, "a", 0), (second, "b", 1)));
        var client = new ApiClient(gateway.CreateClient(), "sk-test");

        var reply = await client.SendAsync(HttpMethod.Post, Chat, Body());
        var trace = await gateway.WaitForTraceAsync(Guid.Parse(reply.Header("x-llmtrace-trace-id")!));

        Assert.Equal(HttpStatusCode.BadGateway, reply.Status);
        Assert.Contains("fake upstream failure", reply.Text, StringComparison.Ordinal);
        Assert.Equal(["server_error", "server_error"], trace.Attempts!.Select(a => a.Outcome));
    }

    [Fact]
    public async Task UnreachableBackend_FailsOverToTheNext()
    {
        await using var secondary = await FakeUpstream.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["LlmTrace:Upstreams:Pools:Default:Backends:0:Url"] = $"http://127.0.0.1:{Ports.Free()}",
            ["LlmTrace:Upstreams:Pools:Default:Backends:0:Name"] = "gone",
            ["LlmTrace:Upstreams:Pools:Default:Backends:1:Url"] = secondary.BaseAddress.GetLeftPart(UriPartial.Authority),
            ["LlmTrace:Upstreams:Pools:Default:Backends:1:Name"] = "up",
            ["LlmTrace:Upstreams:Pools:Default:Backends:1:Priority"] = "1",
        };
        await using var gateway = await GatewayHost.StartAsync(null, settings);
        var client = new ApiClient(gateway.CreateClient(), "sk-test");

        var reply = await client.SendAsync(HttpMethod.Post, Chat, Body(stream: true));
        var trace = await gateway.WaitForTraceAsync(Guid.Parse(reply.Header("x-llmtrace-trace-id")!));

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Contains("data: [DONE]", reply.Text, StringComparison.Ordinal);
        Assert.Equal([("gone", "unreachable"), ("up", "served")], trace.Attempts!.Select(a => (a.Backend, a.Outcome)));
    }

    [Fact]
    public async Task StreamBrokenAfterItsFirstByte_IsNeverReplayedOnAnotherBackend()
    {
        await using var primary = await FakeUpstream.StartAsync();
        await using var secondary = await FakeUpstream.StartAsync();
        primary.ForcedMode = "reset-mid-late";
        await using var gateway = await GatewayHost.StartAsync(null, Pool((primary, "primary", 0), (secondary, "secondary", 1)));
        using var http = gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, Chat) { Content = new StringContent(Body(stream: true), Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "sk-test");

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        string? text = null;
        try
        {
            text = await response.Content.ReadAsStringAsync();
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            // The gateway cuts a stream whose upstream broke after it began: the honest signal left.
        }

        // However the broken stream reached the client, it never completed, and no other backend was asked to replay it.
        Assert.True(text is null || !text.Contains("[DONE]", StringComparison.Ordinal), text);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, primary.RequestCount);
        Assert.Equal(0, secondary.RequestCount);
    }

    [Fact]
    public async Task OpenAISdk_SeesSuccess_WhileThePrimaryThrottles()
    {
        await using var primary = await FakeUpstream.StartAsync();
        await using var secondary = await FakeUpstream.StartAsync();
        primary.ForcedMode = "status:429";
        primary.RetryAfter = "30";
        await using var gateway = await GatewayHost.StartAsync(null, Pool((primary, "primary", 0), (secondary, "secondary", 1)));
        var options = new OpenAIClientOptions { Endpoint = new Uri(gateway.BaseAddress, "/v1"), RetryPolicy = new ClientRetryPolicy(0) };
        var chat = new ChatClient("gpt-4o-mini", new ApiKeyCredential("sk-test"), options);

        for (var i = 0; i < 3; i++)
        {
            ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("hello")]);
            Assert.False(string.IsNullOrEmpty(completion.Content[0].Text));
        }

        Assert.Equal(1, primary.RequestCount);
    }

    [Fact]
    public async Task AzurePool_MapsTheModelToEachAccountsDeployment()
    {
        await using var ptu = await FakeUpstream.StartAsync();
        await using var paygo = await FakeUpstream.StartAsync();
        ptu.ForcedMode = "status:429";
        var settings = Pool("AzureOpenAI", (ptu, "ptu", 0), (paygo, "paygo", 1));
        settings["LlmTrace:Upstreams:Pools:AzureOpenAI:Backends:0:Deployments:gpt-4o"] = "gpt-4o-ptu";
        settings["LlmTrace:Upstreams:Pools:AzureOpenAI:Backends:1:Deployments:gpt-4o"] = "gpt-4o-global";
        await using var gateway = await GatewayHost.StartAsync(null, settings);
        var client = new ApiClient(gateway.CreateClient(), "sk-test");

        var reply = await client.SendAsync(HttpMethod.Post, "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", Body());

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.StartsWith("/openai/deployments/gpt-4o-ptu/chat/completions?api-version=2024-10-21", Assert.Single(ptu.Requests).PathAndQuery, StringComparison.Ordinal);
        Assert.StartsWith("/openai/deployments/gpt-4o-global/chat/completions?api-version=2024-10-21", Assert.Single(paygo.Requests).PathAndQuery, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AzureOpenAISdk_SeesSuccess_WhileThePtuDeploymentThrottles()
    {
        await using var ptu = await FakeUpstream.StartAsync();
        await using var paygo = await FakeUpstream.StartAsync();
        ptu.ForcedMode = "status:429";
        ptu.RetryAfter = "60";
        await using var gateway = await GatewayHost.StartAsync(null, Pool("AzureOpenAI", (ptu, "ptu", 0), (paygo, "paygo", 1)));
        var azure = new global::Azure.AI.OpenAI.AzureOpenAIClient(gateway.BaseAddress, new ApiKeyCredential("azure-client-key"),
            new global::Azure.AI.OpenAI.AzureOpenAIClientOptions { RetryPolicy = new ClientRetryPolicy(0) });
        var chat = azure.GetChatClient("gpt-4o");

        for (var i = 0; i < 3; i++)
        {
            ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("hello")]);
            Assert.False(string.IsNullOrEmpty(completion.Content[0].Text));
        }

        Assert.Equal((1, 3), (ptu.RequestCount, paygo.RequestCount));
    }

    [Fact]
    public async Task GatewayKeys_EachAccountOfThePool_GetsItsOwnKey()
    {
        await using var ptu = await FakeUpstream.StartAsync();
        await using var paygo = await FakeUpstream.StartAsync();
        ptu.ForcedMode = "status:429";
        var settings = Pool("AzureOpenAI", (ptu, "ptu", 0), (paygo, "paygo", 1));
        settings["LlmTrace:AdminKey"] = "pool-admin";
        settings["LlmTrace:Auth:Mode"] = "gateway-keys";
        settings["LlmTrace:ProviderKeys:AzureOpenAI"] = "route-key";
        settings["LlmTrace:ProviderKeys:azure-paygo"] = "paygo-key";
        settings["LlmTrace:Upstreams:Pools:AzureOpenAI:Backends:1:KeySetting"] = "azure-paygo";
        await using var gateway = await GatewayHost.StartAsync(null, settings);
        var admin = new ApiClient(gateway.CreateClient(), "pool-admin");
        var tenant = await admin.PostAsync("/api/tenants", """{"name":"pool-team"}""");
        var key = await admin.PostAsync($"/api/tenants/{tenant.Json.GetProperty("tenantId").GetGuid()}/keys", """{"name":"app"}""");
        using var http = gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21")
        {
            Content = new StringContent("""{"messages":[{"role":"user","content":"hello"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("api-key", key.Json.GetProperty("secret").GetString());

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("route-key", Assert.Single(ptu.Requests).Header("api-key"));
        Assert.Equal("paygo-key", Assert.Single(paygo.Requests).Header("api-key"));
    }

    [Fact]
    public async Task PoolNamingNoRoute_StopsTheHostWithTheFix()
    {
        var settings = new Dictionary<string, string?>
        {
            ["LlmTrace:Upstreams:Pools:OpenAl:Backends:0:Url"] = "https://example.com",
        };

        var failure = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var gateway = await GatewayHost.StartAsync(null, settings);
        });

        Assert.Contains("Pools:OpenAl names no route", failure.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("retry-after-ms", "1500", 1500)]
    [InlineData("retry-after", "7", 7000)]
    [InlineData("x-ratelimit-reset-requests", "6m0s", 360000)]
    [InlineData("x-ratelimit-reset-tokens", "20ms", 20)]
    [InlineData("x-ratelimit-reset-tokens", "1m30.5s", 90500)]
    public void RetryAfter_ReadsEveryHeaderProvidersSend(string header, string value, double expectedMs)
    {
        using var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        response.Headers.TryAddWithoutValidation(header, value);

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), BackendPools.RetryAfter(response.Headers, DateTimeOffset.UtcNow));
    }

    [Fact]
    public void RetryAfter_AsADate_CountsFromNow()
    {
        var now = new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
        using var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        response.Headers.RetryAfter = new RetryConditionHeaderValue(now.AddSeconds(45));

        Assert.Equal(TimeSpan.FromSeconds(45), BackendPools.RetryAfter(response.Headers, now));
        Assert.Null(BackendPools.RetryAfter(new HttpResponseMessage().Headers, now));
    }
}

/// <summary>Backends reached with the gateway's own Entra ID identity instead of a key.</summary>
public sealed class ManagedIdentityBackendTests
{
    private sealed class FakeCredential(TimeSpan lifetime, bool fail = false) : global::Azure.Core.TokenCredential
    {
        private int _issued;

        public int Issued => _issued;

        public List<string> Scopes { get; } = [];

        public override global::Azure.Core.AccessToken GetToken(global::Azure.Core.TokenRequestContext requestContext, CancellationToken cancellationToken)
            => GetTokenAsync(requestContext, cancellationToken).AsTask().GetAwaiter().GetResult();

        public override ValueTask<global::Azure.Core.AccessToken> GetTokenAsync(global::Azure.Core.TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            lock (Scopes)
            {
                Scopes.AddRange(requestContext.Scopes);
            }

            if (fail)
            {
                throw new global::Azure.Identity.CredentialUnavailableException("no identity on this machine");
            }

            var number = Interlocked.Increment(ref _issued);
            return ValueTask.FromResult(new global::Azure.Core.AccessToken($"entra-token-{number}", DateTimeOffset.UtcNow + lifetime));
        }
    }

    private static async Task<GatewayHost> StartAsync(FakeUpstream upstream, FakeCredential credential)
        => await GatewayHost.StartAsync(
            null,
            new Dictionary<string, string?>
            {
                ["LlmTrace:Upstreams:Pools:AzureOpenAI:Backends:0:Url"] = upstream.BaseAddress.GetLeftPart(UriPartial.Authority),
                ["LlmTrace:Upstreams:Pools:AzureOpenAI:Backends:0:Credential"] = "ManagedIdentity",
            },
            builder => builder.Services.AddSingleton<global::Azure.Core.TokenCredential>(credential));

    private const string Path = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
    private const string Body = """{"messages":[{"role":"user","content":"hello"}]}""";

    [Fact]
    public async Task Token_ReplacesTheClientsKey_AndIsReusedUntilNearItsExpiry()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var credential = new FakeCredential(TimeSpan.FromHours(1));
        await using var gateway = await StartAsync(upstream, credential);
        using var http = gateway.CreateClient();

        for (var i = 0; i < 3; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, Path) { Content = new StringContent(Body, Encoding.UTF8, "application/json") };
            request.Headers.Add("api-key", "client-azure-key");
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(1, credential.Issued);
        Assert.Equal("https://cognitiveservices.azure.com/.default", Assert.Single(credential.Scopes));
        Assert.All(upstream.Requests, r =>
        {
            Assert.Equal("Bearer entra-token-1", r.Header("Authorization"));
            Assert.Null(r.Header("api-key"));
        });
    }

    [Fact]
    public async Task TokenCloseToExpiry_IsRefreshedBeforeUse()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var credential = new FakeCredential(TimeSpan.FromMinutes(2));
        await using var gateway = await StartAsync(upstream, credential);
        var client = new ApiClient(gateway.CreateClient(), "sk-test");

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(HttpMethod.Post, Path, Body)).Status);
        }

        Assert.Equal(3, credential.Issued);
        Assert.Equal("Bearer entra-token-3", upstream.Requests.Last().Header("Authorization"));
    }

    [Fact]
    public async Task NoIdentity_GivesAProviderShaped502_AndNothingIsSent()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, new FakeCredential(TimeSpan.FromHours(1), fail: true));
        var client = new ApiClient(gateway.CreateClient(), "sk-test");

        var reply = await client.SendAsync(HttpMethod.Post, Path, Body);

        Assert.Equal(HttpStatusCode.BadGateway, reply.Status);
        Assert.Contains("upstream_sign_in_failed", reply.Text, StringComparison.Ordinal);
        Assert.Equal(0, upstream.RequestCount);
    }
}
