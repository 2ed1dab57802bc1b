using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LlmTrace.Domain.Alerts;
using LlmTrace.Domain.Capture;
using LlmTrace.Tests.Costs;
using LlmTrace.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace LlmTrace.Tests.Alerts;

public sealed class WebhookAlertPublisherTests
{
    [Fact]
    public async Task Publish_SignsTheExactBodyWithHmacSha256()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var publisher = Publisher(receiver, out _);

        Assert.True(await publisher.PublishAsync(NewAlert(Guid.NewGuid(), "security_finding"), CancellationToken.None));

        var (body, signature) = Assert.Single(receiver.Deliveries);
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData("s3cret"u8.ToArray(), body));
        Assert.Equal(expected, signature);
        using var json = JsonDocument.Parse(body);
        Assert.Equal("security_finding", json.RootElement.GetProperty("kind").GetString());
        Assert.Equal("high", json.RootElement.GetProperty("severity").GetString());
        Assert.True(json.RootElement.TryGetProperty("tenantId", out _));
        Assert.True(json.RootElement.TryGetProperty("summary", out _));
    }

    [Fact]
    public async Task Publish_ServerErrorsThenSuccess_RetriesWithBackoff()
    {
        await using var receiver = await WebhookReceiver.StartAsync(500, 503);
        var publisher = Publisher(receiver, out _);

        Assert.True(await publisher.PublishAsync(NewAlert(Guid.NewGuid(), "anomaly"), CancellationToken.None));

        Assert.Equal(3, receiver.Attempts);
        Assert.Single(receiver.Deliveries);
    }

    [Fact]
    public async Task Publish_ClientError_IsNotRetried()
    {
        await using var receiver = await WebhookReceiver.StartAsync(400);
        var publisher = Publisher(receiver, out _);

        Assert.False(await publisher.PublishAsync(NewAlert(Guid.NewGuid(), "anomaly"), CancellationToken.None));
        Assert.Equal(1, receiver.Attempts);
    }

    [Fact]
    public async Task Publish_BurstForOneTenantAndKind_SendsOneUntilCooldownEnds()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var publisher = Publisher(receiver, out var time);
        var tenant = Guid.NewGuid();

        var sent = new List<bool>();
        for (var i = 0; i < 10; i++)
        {
            sent.Add(await publisher.PublishAsync(NewAlert(tenant, "budget_threshold"), CancellationToken.None));
        }

        var otherKind = await publisher.PublishAsync(NewAlert(tenant, "anomaly"), CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(301));
        var afterCooldown = await publisher.PublishAsync(NewAlert(tenant, "budget_threshold"), CancellationToken.None);

        Assert.Equal(1, sent.Count(s => s));
        Assert.True(otherKind);
        Assert.True(afterCooldown);
        Assert.Equal(3, receiver.Deliveries.Count);
        using var last = JsonDocument.Parse(receiver.Deliveries.Last().Body);
        Assert.Equal("9", last.RootElement.GetProperty("details").GetProperty("suppressedSinceLast").GetString());
    }

    private static WebhookAlertPublisher Publisher(WebhookReceiver receiver, out FakeTimeProvider time)
    {
        time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var services = new ServiceCollection();
        services.AddHttpClient(WebhookAlertPublisher.HttpClientName);
        var factory = services.BuildServiceProvider().GetRequiredService<IHttpClientFactory>();
        var options = new OptionsMonitorStub<AlertOptions>(new AlertOptions { WebhookUrl = receiver.Url, WebhookSecret = "s3cret", CooldownSeconds = 300, MaxAttempts = 4 });
        var tenants = new LlmTrace.Domain.Tenancy.TenantStore(new LlmTrace.Domain.Records.InMemoryRecordStore(), new OptionsMonitorStub<LlmTrace.Domain.Tenancy.TenancyOptions>(new()), time);
        return new WebhookAlertPublisher(factory, options, tenants, new AutoAdvancingDelays(time), NullLogger<WebhookAlertPublisher>.Instance);
    }

    private static Alert NewAlert(Guid tenant, string kind) => new()
    {
        AlertId = Guid.NewGuid(),
        Kind = kind,
        Severity = FindingSeverity.High,
        TenantId = tenant,
        Summary = "test",
        At = DateTimeOffset.UtcNow,
    };

    /// <summary>A clock whose short timers (retry backoff, under 5 s) fire at once; the 10 s request timeout stays real; <c>GetUtcNow</c> follows the fake clock.</summary>
    private sealed class AutoAdvancingDelays(FakeTimeProvider time) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => time.GetUtcNow();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
            => System.CreateTimer(callback, state, dueTime > TimeSpan.Zero && dueTime < TimeSpan.FromSeconds(5) ? TimeSpan.FromMilliseconds(1) : dueTime, period);
    }
}
