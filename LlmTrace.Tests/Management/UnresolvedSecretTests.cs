using System.Net;
using LlmTrace.Tests.Infrastructure;

namespace LlmTrace.Tests.Management;

/// <summary>An app setting whose Key Vault reference did not resolve arrives as its literal, guessable text: it must count as unset.</summary>
public sealed class UnresolvedSecretTests
{
    private const string Literal = "@Microsoft.KeyVault(VaultName=kv-llmtrace-prod-abc123;SecretName=llmtrace-admin-key)";

    [Fact]
    public async Task AdminKey_AsAnUnresolvedReference_GrantsNothing_AndAlertsStillFlow()
    {
        await using var gateway = await GatewayHost.StartAsync(null, new Dictionary<string, string?>
        {
            ["LlmTrace:AdminKey"] = Literal,
            ["LlmTrace:Alerts:WebhookUrl"] = "@Microsoft.KeyVault(VaultName=kv;SecretName=llmtrace-alert-webhook-url)",
        });
        using var http = gateway.CreateClient();

        var withLiteral = await new ApiClient(http, Literal).GetAsync("/api/tenants");

        // Loopback without a usable admin key is still the SelfHost administrator (the documented local mode)...
        Assert.Equal(HttpStatusCode.OK, (await new ApiClient(http).GetAsync("/api/tenants")).Status);
        // ...but the literal text is not a credential: presented from loopback it is simply ignored, never matched.
        Assert.Equal(HttpStatusCode.OK, withLiteral.Status);
        var publisher = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<LlmTrace.Domain.Alerts.IAlertPublisher>(gateway.Services);
        var delivered = await publisher.PublishAsync(new LlmTrace.Domain.Alerts.Alert
        {
            AlertId = Guid.NewGuid(),
            Kind = "test",
            Severity = LlmTrace.Domain.Capture.FindingSeverity.High,
            Summary = "s",
            At = DateTimeOffset.UtcNow,
        }, CancellationToken.None);
        Assert.True(delivered); // no target: logged only, no exception from a relative "URL"
    }

    [Fact]
    public async Task AdminKey_AsAnUnresolvedReference_OnAHostWithoutLoopbackAdmin_Is403ForTheLiteral()
    {
        await using var gateway = await GatewayHost.StartAsync(null, new Dictionary<string, string?> { ["LlmTrace:AdminKey"] = Literal });
        using var http = new HttpClient { BaseAddress = gateway.BaseAddress };
        // A non-local Host header: the loopback administrator mode does not apply (as for a DNS-rebound page).
        http.DefaultRequestHeaders.Host = "llmtrace.attacker.example";

        var reply = await new ApiClient(http, Literal).GetAsync("/api/tenants");

        Assert.Equal(HttpStatusCode.Forbidden, reply.Status);
        Assert.Equal("admin_key_not_configured", reply.ErrorCode);
    }
}
