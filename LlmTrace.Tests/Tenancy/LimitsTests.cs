using System.Globalization;
using System.Net;
using LlmTrace.Domain.Budgets;
using LlmTrace.Domain.Capture;
using LlmTrace.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace LlmTrace.Tests.Tenancy;

/// <summary>
/// Rate limits, token caps and hard cost caps on SelfHost in pass-through mode, with the clock under test control.
/// A fake upstream call of gpt-4o-mini costs about 5.6e-6 USD (11 prompt tokens, 3 cached, 7 output; streamed: 21 and 4).
/// </summary>
public sealed class LimitsTests : IAsyncLifetime
{
    // 23:58:30 UTC on the last day of the month: the hour, day and month all end in 90 seconds.
    private static readonly DateTimeOffset Start = new(2026, 11, 30, 23, 58, 30, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Start);
    private FakeUpstream _upstream = null!;
    private GatewayHost _gateway = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        // The consumer batches with a delay on the (fake) clock: with none, traces flow as soon as they are captured.
        _gateway = await GatewayHost.StartAsync(
            _upstream,
            new Dictionary<string, string?> { ["LlmTrace:Capture:BatchDelayMilliseconds"] = "0" },
            builder => builder.Services.AddSingleton<TimeProvider>(_time));
        _http = _gateway.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private ApiClient Admin => new(_http); // loopback without an admin key is the administrator on SelfHost

    [Fact]
    public async Task RequestsPerMinute_OverTheLimit_Is429WithOpenAIHeaders_AndFreeAgainNextMinute()
    {
        var (tenant, client) = await NewTenantAsync("""{"name":"rpm","rateLimits":{"requestsPerMinute":2}}""");

        var replies = new List<ApiReply>();
        for (var i = 0; i < 3; i++)
        {
            replies.Add(await client.ChatAsync());
        }

        _time.Advance(TimeSpan.FromMinutes(1));
        var nextMinute = await client.ChatAsync();

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], replies.Select(r => r.Status));
        var limited = replies[2];
        Assert.Equal("rate_limit_exceeded", limited.ErrorCode);
        Assert.Equal("2", limited.Header("x-ratelimit-limit-requests"));
        Assert.Equal("0", limited.Header("x-ratelimit-remaining-requests"));
        Assert.Equal("30s", limited.Header("x-ratelimit-reset-requests"));
        Assert.Equal("30", limited.Header("retry-after"));
        Assert.Equal(HttpStatusCode.OK, nextMinute.Status);
        Assert.Equal(3, _upstream.Requests.Count(r => r.Header("Authorization") == "Bearer " + tenant.Key));
    }

    [Fact]
    public async Task TokensPerMinute_EstimatedFromPromptAndMaxTokens_RefusesTheCallThatWouldExceedIt()
    {
        var (_, client) = await NewTenantAsync("""{"name":"tpm","rateLimits":{"tokensPerMinute":200}}""");

        var first = await client.ChatAsync(maxTokens: 150);
        var second = await client.ChatAsync(maxTokens: 150);
        var small = await client.ChatAsync(maxTokens: 20);

        Assert.Equal(HttpStatusCode.OK, first.Status);
        // The first call's estimate (~160) was replaced by its real usage (18), so 182 tokens remain for the minute.
        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.ChatAsync(maxTokens: 190)).Status);
        Assert.Equal(HttpStatusCode.OK, small.Status);
    }

    [Fact]
    public async Task PassThrough_AGatewayKeyInTheSdksApiKey_IsNeverForwardedUpstream()
    {
        var (tenant, _) = await NewTenantAsync("""{"name":"keyed"}""");
        var key = (await Admin.PostAsync($"/api/tenants/{tenant.Id}/keys", "{}")).Json.GetProperty("secret").GetString()!;
        var marker = Guid.NewGuid().ToString("N");

        // No provider credential is configured on this host, so the gateway cannot substitute one: it refuses.
        var reply = await new ApiClient(_http, key).ChatAsync(content: marker);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, reply.Status);
        Assert.Equal("provider_key_not_configured", reply.ErrorCode);
        Assert.DoesNotContain(_upstream.Requests, r => r.BodyText.Contains(marker, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("?key=ltk_x&alt=sse", "?alt=sse")]
    [InlineData("?%6Bey=ltk_x&alt=sse", "?alt=sse")]
    [InlineData("?KEY=ltk_x", "")]
    [InlineData("?alt=sse&keyword=1", "?alt=sse&keyword=1")]
    public void StripQueryKey_RemovesTheKeyParameterHoweverItIsEncoded(string query, string expected)
        => Assert.Equal(expected, LlmTrace.Domain.Limits.GatewayAuthenticator.StripQueryKey(query));

    [Fact]
    public async Task ACallLargerThanTheWholeMinutesTokenLimit_Is400_NotAnEndless429()
    {
        var (_, client) = await NewTenantAsync("""{"name":"small-tpm","rateLimits":{"tokensPerMinute":100}}""");

        var tooLarge = await client.ChatAsync(maxTokens: 500);
        var fits = await client.ChatAsync(maxTokens: 50);

        Assert.Equal((HttpStatusCode.BadRequest, "request_exceeds_rate_limit"), (tooLarge.Status, tooLarge.ErrorCode));
        Assert.Equal(HttpStatusCode.OK, fits.Status);
    }

    [Fact]
    public async Task SeveralChoices_MultiplyTheTokenEstimate()
    {
        var (tenant, _) = await NewTenantAsync("""{"name":"choices","rateLimits":{"tokensPerMinute":300}}""");

        // One choice of 100 tokens fits; four choices of 100 (about 410 tokens with the prompt) could never fit in 300.
        var one = await new ApiClient(_http, tenant.Key).SendAsync(HttpMethod.Post, "/v1/chat/completions",
            """{"model":"gpt-4o-mini","max_tokens":100,"n":1,"messages":[{"role":"user","content":"hi"}]}""");
        var four = await new ApiClient(_http, tenant.Key).SendAsync(HttpMethod.Post, "/v1/chat/completions",
            """{"model":"gpt-4o-mini","max_tokens":100,"n":4,"messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal(HttpStatusCode.OK, one.Status);
        Assert.Equal((HttpStatusCode.BadRequest, "request_exceeds_rate_limit"), (four.Status, four.ErrorCode));
    }

    [Fact]
    public async Task TokenCaps_MaxTokensAndPromptSize_Are400WithTheField()
    {
        var (_, client) = await NewTenantAsync("""{"name":"caps","tokenCaps":{"maxPromptTokens":50,"maxOutputTokens":100}}""");

        var tooManyOutput = await client.ChatAsync(maxTokens: 500);
        var tooLongPrompt = await client.ChatAsync(content: string.Join(' ', Enumerable.Repeat("lorem ipsum dolor", 40)));
        var fine = await client.ChatAsync(maxTokens: 100);
        var unbounded = await client.ChatAsync();

        Assert.Equal((HttpStatusCode.BadRequest, "max_tokens_cap_exceeded", "max_tokens"), (tooManyOutput.Status, tooManyOutput.ErrorCode, tooManyOutput.Json.GetProperty("error").GetProperty("param").GetString()));
        Assert.Equal((HttpStatusCode.BadRequest, "prompt_tokens_cap_exceeded"), (tooLongPrompt.Status, tooLongPrompt.ErrorCode));
        Assert.Equal(HttpStatusCode.OK, fine.Status);
        // Without max_tokens the provider default applies, which the cap cannot bound.
        Assert.Equal((HttpStatusCode.BadRequest, "max_tokens_required"), (unbounded.Status, unbounded.ErrorCode));
    }

    [Fact]
    public async Task HardDailyCap_StreamedSpendCounts_RefusesUntilMidnightUtc_ThenStartsFromZero()
    {
        var (tenant, client) = await NewTenantAsync("""{"name":"cap","budgets":{"daily":{"hardUsd":0.000005}}}""");

        var streamed = await client.ChatAsync(stream: true, maxTokens: 8);
        await WaitForSpendAsync(tenant.Id, null, 1);
        var refused = await client.ChatAsync(maxTokens: 8);
        _time.Advance(TimeSpan.FromSeconds(95)); // 00:00:05 on 1 December
        var nextDay = await client.ChatAsync(maxTokens: 8);

        Assert.Equal(HttpStatusCode.OK, streamed.Status);
        Assert.Contains("data: [DONE]", streamed.Text, StringComparison.Ordinal);
        Assert.True(refused.Status == HttpStatusCode.TooManyRequests, (await Admin.GetAsync($"/api/tenants/{tenant.Id}/budget")).Text + " trace: " + (await _gateway.WaitForTraceAsync(Guid.Parse(streamed.Header("x-llmtrace-trace-id")!))).Cost);
        Assert.Equal("cost_cap_exceeded", refused.ErrorCode);
        Assert.Equal("90", refused.Header("retry-after")); // seconds until 00:00 UTC
        Assert.Equal(HttpStatusCode.OK, nextDay.Status);
        var budget = await Admin.GetAsync($"/api/tenants/{tenant.Id}/budget");
        var daily = budget.Json.GetProperty("windows").EnumerateArray().Single(w => w.GetProperty("window").GetString() == "daily" && w.GetProperty("agentId").ValueKind == System.Text.Json.JsonValueKind.Null);
        Assert.Equal("day-2026-12-01", daily.GetProperty("windowKey").GetString());
    }

    [Fact]
    public async Task HardCap_IsSeenOnTheNextCall_BeforeTheLedgerHasIt()
    {
        var (_, client) = await NewTenantAsync("""{"name":"fast","budgets":{"monthly":{"hardUsd":0.000005}}}""");

        // No wait between the calls: the first call's cost is held in this process until the ledger has it.
        var first = await client.ChatAsync(maxTokens: 8);
        var second = await client.ChatAsync(maxTokens: 8);

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.Status);
    }

    [Fact]
    public async Task AgentCap_StopsOnlyThatAgent_AndRaisingItMidWindowAppliesToTheNextCall()
    {
        var (tenant, client) = await NewTenantAsync("""{"name":"agents","agentBudgets":{"planner":{"hourly":{"hardUsd":0.000005}}}}""");

        Assert.Equal(HttpStatusCode.OK, (await client.ChatAsync(agent: "planner", maxTokens: 8)).Status);
        await WaitForSpendAsync(tenant.Id, "planner", 1);
        var plannerRefused = await client.ChatAsync(agent: "planner", maxTokens: 8);
        var otherAgent = await client.ChatAsync(agent: "writer", maxTokens: 8);
        var raise = await Admin.PutAsync($"/api/tenants/{tenant.Id}/budget", """{"agentBudgets":{"planner":{"hourly":{"hardUsd":1}}}}""");
        var plannerAgain = await client.ChatAsync(agent: "planner", maxTokens: 8);

        Assert.Equal(HttpStatusCode.TooManyRequests, plannerRefused.Status);
        Assert.Contains("agent 'planner'", plannerRefused.Json.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, otherAgent.Status);
        Assert.Equal(HttpStatusCode.OK, raise.Status);
        Assert.Equal(HttpStatusCode.OK, plannerAgain.Status);
    }

    /// <summary>
    /// The documented bound on SelfHost: concurrent calls hold their estimated cost while in flight, so calls racing a cap
    /// overspend it by at most one call.
    /// </summary>
    [Fact]
    public async Task ConcurrentCallsRacingAHardCap_OverspendByAtMostOneCall()
    {
        const decimal Cap = 0.00002m; // about three and a half calls
        var (tenant, client) = await NewTenantAsync("""{"name":"race","budgets":{"daily":{"hardUsd":CAP}}}""".Replace("CAP", Cap.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));

        var replies = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => client.ChatAsync(maxTokens: 7)));

        var admitted = replies.Count(r => r.Status == HttpStatusCode.OK);
        Assert.All(replies, r => Assert.Contains(r.Status, new[] { HttpStatusCode.OK, HttpStatusCode.TooManyRequests }));
        var totals = await WaitForSpendAsync(tenant.Id, null, admitted);
        var spent = totals.Single(t => t.Kind == WindowKind.Day).CostUsd;
        var oneCall = spent / admitted;
        Assert.InRange(admitted, 3, 4);
        Assert.True(spent <= Cap + oneCall, $"spent {spent} with cap {Cap}");
    }

    private async Task<IReadOnlyList<SpendTotal>> WaitForSpendAsync(Guid tenantId, string? agentId, long requests)
    {
        var ledger = _gateway.Services.GetRequiredService<ISpendLedger>();
        for (var i = 0; i < 500; i++)
        {
            var totals = await ledger.GetTotalsAsync(tenantId, agentId, _time.GetUtcNow(), CancellationToken.None);
            if (totals.Any(t => t.Kind == WindowKind.Day && t.Requests >= requests))
            {
                return totals;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"The ledger did not reach {requests} requests for {tenantId}.");
    }

    /// <summary>A tenant from the API, and a client whose provider key maps to it (pass-through: UUIDv5 of the key).</summary>
    [Theory]
    [InlineData("Allow", HttpStatusCode.OK, null)]
    [InlineData("Refuse", HttpStatusCode.BadRequest, "model_not_priced")]
    public async Task HardCap_ModelMissingFromTheCatalog_FollowsTheUnpricedPolicy(string policy, HttpStatusCode expected, string? code)
    {
        await RestartAsync(new Dictionary<string, string?> { ["LlmTrace:Budgets:UnpricedModels"] = policy });
        var (_, capped) = await NewTenantAsync("""{"name":"capped","budgets":{"daily":{"hardUsd":5}}}""");
        var (_, uncapped) = await NewTenantAsync("""{"name":"uncapped"}""");

        var unpriced = await capped.ChatAsync(maxTokens: 8, model: "my-private-llm");
        var priced = await capped.ChatAsync(maxTokens: 8);
        var noCap = await uncapped.ChatAsync(maxTokens: 8, model: "my-private-llm");

        Assert.Equal((expected, code), (unpriced.Status, unpriced.ErrorCode));
        if (code is not null)
        {
            Assert.Equal("model", unpriced.Json.GetProperty("error").GetProperty("param").GetString());
        }

        // A refused call never reaches the upstream: only the uncapped tenant's call (and, allowed, the capped one's) does.
        Assert.Equal(code is null ? 2 : 1, _upstream.Requests.Count(r => r.BodyText.Contains("my-private-llm", StringComparison.Ordinal)));

        Assert.Equal(HttpStatusCode.OK, priced.Status);
        Assert.Equal(HttpStatusCode.OK, noCap.Status); // without a hard cap there is nothing to bypass
    }

    [Fact]
    public async Task HardCap_StrictPricing_RefusesPrefixGuessesAndCallsWhoseModelCannotBeRead()
    {
        await RestartAsync(new Dictionary<string, string?> { ["LlmTrace:Budgets:UnpricedModels"] = "Refuse" });
        var (tenant, capped) = await NewTenantAsync("""{"name":"strict","budgets":{"daily":{"hardUsd":5}}}""");
        var client = new ApiClient(_http, tenant.Key);

        // "o3-mini-high" is not listed: no longer name is priced as a shorter one, and strict pricing refuses it.
        var variant = await capped.ChatAsync(maxTokens: 8, model: "o3-mini-high");
        var dated = await capped.ChatAsync(maxTokens: 8, model: "gpt-4o-mini-2024-07-18");
        var notJson = await client.SendAsync(HttpMethod.Post, "/v1/chat/completions", "model=gpt-4o-mini&messages=", contentType: "application/x-www-form-urlencoded");
        var noModel = await client.SendAsync(HttpMethod.Post, "/v1/chat/completions", """{"messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal((HttpStatusCode.BadRequest, "model_not_priced"), (variant.Status, variant.ErrorCode));
        Assert.Equal(HttpStatusCode.OK, dated.Status); // a dated snapshot of a listed model is the listed model
        Assert.Equal((HttpStatusCode.BadRequest, "model_not_priced"), (notJson.Status, notJson.ErrorCode));
        Assert.Equal((HttpStatusCode.BadRequest, "model_not_priced"), (noModel.Status, noModel.ErrorCode));
        Assert.Contains("cannot read which model", notJson.Json.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ByteOrderMark_BeforeTheJson_DoesNotHideMaxTokensFromTheOutputCap()
    {
        var (tenant, _) = await NewTenantAsync("""{"name":"bom","tokenCaps":{"maxOutputTokens":100}}""");
        var client = new ApiClient(_http, tenant.Key);

        var unbounded = await client.SendAsync(HttpMethod.Post, "/v1/chat/completions", "\uFEFF" + """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""");
        var bounded = await client.SendAsync(HttpMethod.Post, "/v1/chat/completions", "\uFEFF" + """{"model":"gpt-4o-mini","max_tokens":50,"messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal((HttpStatusCode.BadRequest, "max_tokens_required"), (unbounded.Status, unbounded.ErrorCode));
        Assert.Equal(HttpStatusCode.OK, bounded.Status);
    }

    private async Task RestartAsync(Dictionary<string, string?> settings, Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder>? configure = null)
    {
        _http.Dispose();
        await _gateway.DisposeAsync();
        settings["LlmTrace:Capture:BatchDelayMilliseconds"] = "0";
        _gateway = await GatewayHost.StartAsync(_upstream, settings, builder =>
        {
            builder.Services.AddSingleton<TimeProvider>(_time);
            configure?.Invoke(builder);
        });
        _http = _gateway.CreateClient();
    }

    [Theory]
    [InlineData("Refuse")]
    [InlineData("Allow")]
    public async Task HardCap_LedgerUnreadable_FollowsThePolicy_AndItsBreakerStopsWaitingOnIt(string policy)
    {
        var ledger = (UnreadableLedger?)null;
        await RestartAsync(
            new Dictionary<string, string?> { ["LlmTrace:Budgets:LedgerUnavailable"] = policy },
            builder => builder.Services.AddSingleton<LlmTrace.Domain.Budgets.ISpendLedger>(sp =>
                ledger = new UnreadableLedger(new LlmTrace.SelfHost.Infrastructure.SqliteSpendLedger(sp.GetRequiredService<LlmTrace.SelfHost.Infrastructure.SqliteDatabase>()))));
        var (_, capped) = await NewTenantAsync("""{"name":"capped","budgets":{"daily":{"hardUsd":5}}}""");
        var (_, uncapped) = await NewTenantAsync("""{"name":"uncapped"}""");

        var calls = new List<ApiReply>();
        for (var i = 0; i < 7; i++)
        {
            calls.Add(await capped.ChatAsync(maxTokens: 8));
        }

        var noCap = await uncapped.ChatAsync(maxTokens: 8);

        Assert.Equal(HttpStatusCode.OK, noCap.Status);
        Assert.Equal(5, ledger!.Reads); // after 5 failures the breaker opened: the last two calls did not wait on the ledger
        if (policy == "Refuse")
        {
            Assert.All(calls, c => Assert.Equal((HttpStatusCode.ServiceUnavailable, "budget_unavailable", "5"), (c.Status, c.ErrorCode, c.Header("retry-after"))));
        }
        else
        {
            Assert.All(calls, c => Assert.Equal(HttpStatusCode.OK, c.Status));
        }
    }

    /// <summary>A spend ledger whose reads fail (an unreachable store), counting them; writes go through.</summary>
    private sealed class UnreadableLedger(LlmTrace.Domain.Budgets.ISpendLedger inner) : LlmTrace.Domain.Budgets.ISpendLedger
    {
        private int _reads;

        public int Reads => Volatile.Read(ref _reads);

        public int MaxItemsPerCommit => inner.MaxItemsPerCommit;

        public bool CommitFailsOnExistingMarker => inner.CommitFailsOnExistingMarker;

        public string PartitionOf(LlmTrace.Domain.Budgets.SpendKey key) => inner.PartitionOf(key);

        public Task RunAsync(Func<LlmTrace.Domain.Folding.IFoldSession<LlmTrace.Domain.Budgets.SpendKey, LlmTrace.Domain.Budgets.SpendCounter>, Task> work, CancellationToken cancellationToken)
            => inner.RunAsync(work, cancellationToken);

        public Task<IReadOnlyList<LlmTrace.Domain.Budgets.SpendTotal>> GetTotalsAsync(Guid tenantId, string? agentId, DateTimeOffset at, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _reads);
            throw new IOException("ledger unreachable (injected)");
        }

        public Task<IReadOnlyList<(Guid TenantId, LlmTrace.Domain.Budgets.SpendTotal Total)>> GetEndedOpenWindowsAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
            => inner.GetEndedOpenWindowsAsync(now, max, cancellationToken);

        public Task CloseWindowAsync(Guid tenantId, LlmTrace.Domain.Budgets.SpendTotal total, CancellationToken cancellationToken)
            => inner.CloseWindowAsync(tenantId, total, cancellationToken);
    }

    private async Task<((Guid Id, string Key) Tenant, ApiClient Client)> NewTenantAsync(string json)
    {
        var key = TestKeys.NewKey();
        var id = TestKeys.TenantOf(key);
        var body = json.Replace("{\"name\"", $"{{\"tenantId\":\"{id}\",\"name\"", StringComparison.Ordinal);
        var created = await Admin.PostAsync("/api/tenants", body);
        Assert.Equal(HttpStatusCode.Created, created.Status);
        return ((id, key), new ApiClient(_http, key));
    }
}
