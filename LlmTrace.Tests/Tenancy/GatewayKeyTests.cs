using System.Text.Json;
using LlmTrace.Domain.Records;
using LlmTrace.Domain.Tenancy;
using LlmTrace.Tests.Costs;
using Microsoft.Extensions.Time.Testing;

namespace LlmTrace.Tests.Tenancy;

public sealed class GatewayKeyTests
{
    [Fact]
    public void Create_StoresOnlyASaltedHash_AndVerifiesOnlyTheRightSecret()
    {
        var (secret, record) = GatewayKeyFormat.Create(Guid.NewGuid(), "ci", [KeyRoles.App], null, "admin", DateTimeOffset.UnixEpoch);
        var (other, _) = GatewayKeyFormat.Create(Guid.NewGuid(), "ci", [KeyRoles.App], null, "admin", DateTimeOffset.UnixEpoch);

        Assert.True(GatewayKeyFormat.TryParse(secret, out var id, out var secretPart));
        Assert.Equal(record.KeyId, id);
        Assert.True(GatewayKeyFormat.Verify(record, secretPart));
        Assert.True(GatewayKeyFormat.TryParse(other, out _, out var otherSecret));
        Assert.False(GatewayKeyFormat.Verify(record, otherSecret));
        Assert.Equal(secretPart[^4..], record.LastFour);
        var stored = JsonSerializer.Serialize(record, TenancyJsonContext.Default.GatewayKey);
        Assert.DoesNotContain(secretPart, stored, StringComparison.Ordinal);
        Assert.DoesNotContain(secretPart[..20], stored, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("sk-proj-abc")]
    [InlineData("ltk_")]
    [InlineData("ltk_abcdefghijkm_short")]
    [InlineData("ltk_ABCDEFGHIJKM_0123456789012345678901234567890123456789")] // upper case is not in the id alphabet
    [InlineData("ltk_abcdefghijkm-ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrs")] // wrong separator
    public void TryParse_RejectsAnythingNotInTheFormat(string value)
        => Assert.False(GatewayKeyFormat.TryParse(value, out _, out _));

    [Fact]
    public async Task KeyStore_RevokedKey_StopsAuthenticatingAtOnceInThisProcess()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var store = new GatewayKeyStore(new InMemoryRecordStore(), new OptionsMonitorStub<TenancyOptions>(new TenancyOptions { CacheSeconds = 60 }), time);
        var tenant = Guid.NewGuid();
        var (secret, key) = await store.CreateAsync(tenant, "app", [KeyRoles.App], null, "admin", CancellationToken.None);

        var before = await store.AuthenticateAsync(secret, CancellationToken.None);
        var wrong = await store.AuthenticateAsync(secret[..^1] + (secret[^1] == 'a' ? 'b' : 'a'), CancellationToken.None);
        await store.RevokeAsync(key.KeyId, CancellationToken.None);
        var after = await store.AuthenticateAsync(secret, CancellationToken.None);

        Assert.Equal(tenant, before!.TenantId);
        Assert.Null(wrong);
        Assert.Null(after);
        Assert.NotNull((await store.ListAsync(tenant, CancellationToken.None)).Single().RevokedAt);
    }

    [Fact]
    public async Task KeyStore_RevokedElsewhere_StopsWithinTheCacheInterval()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var records = new InMemoryRecordStore();
        var options = new OptionsMonitorStub<TenancyOptions>(new TenancyOptions { CacheSeconds = 5 });
        var instanceA = new GatewayKeyStore(records, options, time);
        var instanceB = new GatewayKeyStore(records, options, time);
        var (secret, key) = await instanceA.CreateAsync(Guid.NewGuid(), null, [KeyRoles.App], null, null, CancellationToken.None);
        Assert.NotNull(await instanceB.AuthenticateAsync(secret, CancellationToken.None));

        await instanceA.RevokeAsync(key.KeyId, CancellationToken.None);
        var stillCached = await instanceB.AuthenticateAsync(secret, CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(5.1));
        var afterInterval = await instanceB.AuthenticateAsync(secret, CancellationToken.None);

        Assert.NotNull(stillCached); // the documented bound: another instance may accept it for up to CacheSeconds
        Assert.Null(afterInterval);
    }
}
