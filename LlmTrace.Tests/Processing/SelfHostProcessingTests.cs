using System.Text.Json;
using LlmTrace.Domain.Budgets;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Processing;
using LlmTrace.Domain.Security;
using LlmTrace.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static LlmTrace.Tests.Proxy.StreamingTests;

namespace LlmTrace.Tests.Processing;

/// <summary>SelfHost end to end: a proxied call is priced, counted in the ledger once, analysed, stored, and alerted on.</summary>
public sealed class SelfHostProcessingTests : IAsyncLifetime
{
    private FakeUpstream _upstream = null!;
    private WebhookReceiver _webhook = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _webhook = await WebhookReceiver.StartAsync();
        _gateway = await GatewayHost.StartAsync(_upstream, new Dictionary<string, string?>
        {
            ["LlmTrace:Budgets:DailyUsd"] = "0.00001",
            ["LlmTrace:Alerts:WebhookUrl"] = _webhook.Url.ToString(),
            ["LlmTrace:Alerts:WebhookSecret"] = "hook-secret",
            ["LlmTrace:Alerts:MinimumSeverity"] = "High",
            ["LlmTrace:Alerts:PublicBaseUrl"] = "https://llmtrace.example.com",
        }, builder => builder.Services.AddSingleton<ISecurityAnalyzer, MarkerAnalyzer>());
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _webhook.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task Call_IsPricedCountedOnceAndAlertedAtTheSoftBudget()
    {
        var key = TestKeys.NewKey();
        var tenant = TestKeys.TenantOf(key);
        using var http = _gateway.CreateClient();

        // gpt-4o-mini, 11 prompt (3 cached) + 7 completion tokens: (8 × 0.15 + 3 × 0.075 + 7 × 0.60) / 1M = 0.000005625 USD.
        using var first = await http.SendAsync(Post("/v1/chat/completions", """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""", ("Authorization", "Bearer " + key), ("X-LLMTrace-Agent-ID", "bot")));
        var firstTrace = await _gateway.WaitForTraceAsync(TraceId(first));
        using var second = await http.SendAsync(Post("/v1/chat/completions", """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""", ("Authorization", "Bearer " + key), ("X-LLMTrace-Agent-ID", "bot")));
        var secondTrace = await _gateway.WaitForTraceAsync(TraceId(second));

        Assert.True(firstTrace.Priced);
        Assert.Equal(0.000005625m, firstTrace.Cost!.Total);
        Assert.Equal("gpt-4o-mini", firstTrace.Cost.PricedAs);
        var ledger = _gateway.Services.GetRequiredService<ISpendLedger>();
        var day = (await ledger.GetTotalsAsync(tenant, null, secondTrace.StartedAt, CancellationToken.None)).Single(t => t.Kind == WindowKind.Day);
        Assert.Equal((0.00001125m, 36L, 2L), (day.CostUsd, day.Tokens, day.Requests));
        var agentDay = (await ledger.GetTotalsAsync(tenant, "bot", secondTrace.StartedAt, CancellationToken.None)).Single(t => t.Kind == WindowKind.Day);
        Assert.Equal(0.00001125m, agentDay.CostUsd);

        // The second call crossed 80 % and 100 % of the 0.00001 USD daily budget: one alert, at the highest threshold.
        var budgetAlerts = await WaitForAlertsAsync("budget_threshold", 1);
        var alert = budgetAlerts.Single().RootElement;
        Assert.Equal(tenant.ToString(), alert.GetProperty("tenantId").GetString());
        Assert.Equal("1", alert.GetProperty("details").GetProperty("threshold").GetString());
        Assert.Equal(BudgetWindow.Containing(WindowKind.Day, secondTrace.StartedAt).Key, alert.GetProperty("details").GetProperty("window").GetString());

        // Redelivery: processing the same trace again changes nothing.
        await _gateway.Services.GetRequiredService<ITraceProcessor>().ProcessAsync([secondTrace], CancellationToken.None);
        var again = (await ledger.GetTotalsAsync(tenant, null, secondTrace.StartedAt, CancellationToken.None)).Single(t => t.Kind == WindowKind.Day);
        Assert.Equal(day, again);
        var stored = await _gateway.Store.GetAsync(secondTrace.TraceId, CancellationToken.None);
        Assert.Equal(secondTrace.Cost, stored!.Cost);
        Assert.Equal(secondTrace.Findings.Count, stored.Findings.Count);
    }

    [Fact]
    public async Task Call_UnknownModel_IsUnpricedButCountedInTokensWithOneAlertPerModel()
    {
        var key = TestKeys.NewKey();
        using var http = _gateway.CreateClient();

        for (var i = 0; i < 3; i++)
        {
            using var response = await http.SendAsync(Post("/v1/chat/completions", """{"model":"my-private-llm","messages":[{"role":"user","content":"hi"}]}""", ("Authorization", "Bearer " + key)));
            var trace = await _gateway.WaitForTraceAsync(TraceId(response));
            Assert.False(trace.Priced);
            Assert.Null(trace.Cost);
        }

        var alerts = await WaitForAlertsAsync("unpriced_model", 1);
        Assert.Equal("my-private-llm", alerts.Single().RootElement.GetProperty("details").GetProperty("model").GetString());
        var totals = await _gateway.Services.GetRequiredService<ISpendLedger>().GetTotalsAsync(TestKeys.TenantOf(key), null, DateTimeOffset.UtcNow, CancellationToken.None);
        Assert.Equal((0m, 54L, 3L), (totals[1].CostUsd, totals[1].Tokens, totals[1].Requests));
        await Task.Delay(200);
        Assert.Single(Alerts("unpriced_model"));
    }

    [Fact]
    public async Task Call_ModelNameWithMarkup_IsNeutralisedInTheAlertSummary_AndKeptWholeInItsDetails()
    {
        // The relay posts summaries to Slack and Teams: a client-chosen model name must not add a link or a mention.
        const string Model = "<!channel> [reset your password](https://evil.example/login)";
        var key = TestKeys.NewKey();
        using var http = _gateway.CreateClient();

        using var response = await http.SendAsync(Post("/v1/chat/completions", $$"""{"model":"{{Model}}","messages":[{"role":"user","content":"hi"}]}""", ("Authorization", "Bearer " + key)));
        await _gateway.WaitForTraceAsync(TraceId(response));

        var alert = (await WaitForAlertsAsync("unpriced_model", 1)).Single().RootElement;
        var summary = alert.GetProperty("summary").GetString()!;
        Assert.DoesNotContain("<", summary, StringComparison.Ordinal);
        Assert.DoesNotContain("](", summary, StringComparison.Ordinal);
        Assert.DoesNotContain("://", summary, StringComparison.Ordinal);
        Assert.Contains("reset your password", summary, StringComparison.Ordinal);
        Assert.Equal(Model, alert.GetProperty("details").GetProperty("model").GetString());
    }

    [Fact]
    public async Task Call_SecurityFinding_IsAttachedToTheTraceAndAlertedWithALink()
    {
        var key = TestKeys.NewKey();
        using var http = _gateway.CreateClient();

        using var response = await http.SendAsync(Post("/v1/chat/completions", """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"TEST-MARKER please"}]}""", ("Authorization", "Bearer " + key)));
        var trace = await _gateway.WaitForTraceAsync(TraceId(response));

        var finding = Assert.Single(trace.Findings, f => f.Detector.StartsWith("security.", StringComparison.Ordinal));
        Assert.Equal(("prompt_injection", FindingSeverity.Critical, "security.test-marker"), (finding.Type, finding.Severity, finding.Detector));
        var alert = (await WaitForAlertsAsync("security_finding", 1)).Single(a => a.RootElement.GetProperty("traceId").GetString() == trace.TraceId.ToString()).RootElement;
        Assert.Equal($"https://llmtrace.example.com/api/traces/{trace.TraceId}", alert.GetProperty("traceUrl").GetString());
        Assert.Equal("critical", alert.GetProperty("severity").GetString());
        Assert.DoesNotContain("TEST-MARKER", alert.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Call_WithASecretInThePrompt_IsStoredRedactedWithAFinding()
    {
        const string Key = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH";
        using var http = _gateway.CreateClient();

        using var response = await http.SendAsync(Post("/v1/chat/completions", $$"""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"debug this: OPENAI_API_KEY={{Key}}"}]}""", ("Authorization", "Bearer " + TestKeys.NewKey())));
        var trace = await _gateway.WaitForTraceAsync(TraceId(response));

        Assert.Equal("user: debug this: OPENAI_API_KEY=[REDACTED:openai_api_key]", trace.Prompt);
        var finding = Assert.Single(trace.Findings, f => f.Type == "secret");
        Assert.Equal(("openai_api_key", "request"), (finding.Message, finding.Location));
        var stored = await File.ReadAllBytesAsync(_gateway.Services.GetRequiredService<LlmTrace.SelfHost.Infrastructure.SqliteDatabase>().FullPath);
        Assert.Equal(-1, stored.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(Key)));
    }

    private List<JsonDocument> Alerts(string kind)
        => [.. _webhook.Deliveries.Select(d => JsonDocument.Parse(d.Body)).Where(d => d.RootElement.GetProperty("kind").GetString() == kind)];

    private async Task<List<JsonDocument>> WaitForAlertsAsync(string kind, int count)
    {
        for (var i = 0; i < 250; i++)
        {
            var found = Alerts(kind);
            if (found.Count >= count)
            {
                return found;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"No {kind} alert arrived.");
    }

    /// <summary>A stand-in detector: flags prompts that contain TEST-MARKER.</summary>
    private sealed class MarkerAnalyzer : ISecurityAnalyzer
    {
        public string Name => "test-marker";

        public IEnumerable<Finding> Analyze(Trace trace)
            => trace.Prompt?.Contains("TEST-MARKER", StringComparison.Ordinal) == true
                ? [new Finding { Type = "prompt_injection", Severity = FindingSeverity.Critical, Location = "request", Detector = "test-marker", Message = "marker seen" }]
                : [];
    }
}
