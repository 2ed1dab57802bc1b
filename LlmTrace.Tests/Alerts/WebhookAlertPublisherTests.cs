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
        => Publisher(receiver, new AlertOptions { WebhookUrl = receiver.Url, WebhookSecret = "s3cret", CooldownSeconds = 300, MaxAttempts = 4 }, out time, out _);

    private static WebhookAlertPublisher Publisher(WebhookReceiver receiver, AlertOptions settings, out FakeTimeProvider time, out LlmTrace.Domain.Tenancy.TenantStore tenants)
    {
        time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var options = new OptionsMonitorStub<AlertOptions>(settings);
        var services = new ServiceCollection().AddSingleton<Microsoft.Extensions.Options.IOptionsMonitor<AlertOptions>>(options);
        services.AddWebhookClients();
        var factory = services.BuildServiceProvider().GetRequiredService<IHttpClientFactory>();
        tenants = new LlmTrace.Domain.Tenancy.TenantStore(new LlmTrace.Domain.Records.InMemoryRecordStore(), new OptionsMonitorStub<LlmTrace.Domain.Tenancy.TenancyOptions>(new()), time);
        var breakers = new LlmTrace.Domain.Resilience.Breakers(
            new OptionsMonitorStub<LlmTrace.Domain.Resilience.BreakerOptions>(new()),
            time,
            new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            NullLogger<LlmTrace.Domain.Resilience.Breakers>.Instance);
        return new WebhookAlertPublisher(factory, options, tenants, breakers, new AutoAdvancingDelays(time), NullLogger<WebhookAlertPublisher>.Instance);
    }

    [Fact]
    public async Task Publish_WebhookKeepsFailing_BreakerOpensAndSkipsIt_ThenAProbeClosesIt()
    {
        // Five deliveries fail (one attempt each), which opens the breaker; the webhook answers 202 after that.
        await using var receiver = await WebhookReceiver.StartAsync(500, 500, 500, 500, 500);
        var publisher = Publisher(receiver, new AlertOptions { WebhookUrl = receiver.Url, CooldownSeconds = 0, MaxAttempts = 1 }, out var time, out _);

        var failed = new List<bool>();
        for (var i = 0; i < 5; i++)
        {
            failed.Add(await publisher.PublishAsync(NewAlert(Guid.NewGuid(), "anomaly"), CancellationToken.None));
        }

        var whileOpen = await publisher.PublishAsync(NewAlert(Guid.NewGuid(), "anomaly"), CancellationToken.None);
        var attemptsWhileOpen = receiver.Attempts;
        time.Advance(TimeSpan.FromSeconds(16)); // past BreakSeconds (15): one probe goes through
        var probe = await publisher.PublishAsync(NewAlert(Guid.NewGuid(), "anomaly"), CancellationToken.None);
        var closed = await publisher.PublishAsync(NewAlert(Guid.NewGuid(), "anomaly"), CancellationToken.None);

        Assert.All(failed, Assert.False);
        Assert.False(whileOpen);
        Assert.Equal(5, attemptsWhileOpen); // the sixth alert never reached the failing webhook
        Assert.True(probe);
        Assert.True(closed);
        Assert.Equal(7, receiver.Attempts);
    }

    [Theory]
    [InlineData(false, 0)]
    [InlineData(true, 2)]
    public async Task Publish_TenantWebhookThatResolvesInside_IsRefusedAtConnect_UnlessAllowed(bool allowPrivate, int tenantDeliveries)
    {
        // Saved while public, resolving to loopback now (DNS rebinding): stored directly, as validation would have
        // accepted the public name. Both the name and the literal address are checked when connecting.
        await using var operatorHook = await WebhookReceiver.StartAsync();
        await using var tenantHook = await WebhookReceiver.StartAsync();
        var settings = new AlertOptions { WebhookUrl = operatorHook.Url, CooldownSeconds = 0, MaxAttempts = 1, AllowPrivateTenantWebhooks = allowPrivate };
        var publisher = Publisher(operatorHook, settings, out _, out var tenants);
        var tenantId = Guid.NewGuid();
        var byName = new UriBuilder(tenantHook.Url) { Host = "localhost" }.Uri;
        await tenants.CreateAsync(new LlmTrace.Domain.Tenancy.Tenant { TenantId = tenantId, Name = "rebinding", AlertWebhooks = [tenantHook.Url, byName] }, CancellationToken.None);

        var delivered = await publisher.PublishAsync(NewAlert(tenantId, "security_finding"), CancellationToken.None);

        Assert.Equal(allowPrivate, delivered);
        Assert.Single(operatorHook.Deliveries); // the operator's own relay may be internal
        Assert.Equal(tenantDeliveries, tenantHook.Deliveries.Count);
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.1.2.3", true)]
    [InlineData("172.20.0.1", true)]
    [InlineData("192.168.1.1", true)]
    [InlineData("169.254.169.254", true)]
    [InlineData("100.64.0.1", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("224.0.0.251", true)]
    [InlineData("::1", true)]
    [InlineData("fe80::1", true)]
    [InlineData("fd12:3456::1", true)]
    [InlineData("::ffff:10.0.0.1", true)]
    [InlineData("::127.0.0.1", true)]
    [InlineData("64:ff9b::a9fe:a9fe", true)]
    [InlineData("2002:0a00:0001::1", true)]
    [InlineData("198.18.0.1", true)]
    [InlineData("64:ff9b::808:808", false)]
    [InlineData("2002:0808:0808::1", false)]
    [InlineData("8.8.8.8", false)]
    [InlineData("20.50.1.1", false)]
    [InlineData("172.32.0.1", false)]
    [InlineData("2001:4860:4860::8888", false)]
    public void IsInternal_ClassifiesAddresses(string address, bool expected)
        => Assert.Equal(expected, WebhookTargets.IsInternal(System.Net.IPAddress.Parse(address)));

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
