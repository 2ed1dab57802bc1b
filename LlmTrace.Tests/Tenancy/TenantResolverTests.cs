using LlmTrace.Domain.Tenancy;
using Microsoft.AspNetCore.Http;

namespace LlmTrace.Tests.Tenancy;

public sealed class TenantResolverTests
{
    [Fact]
    public void CreateVersion5_Rfc9562DnsExample_MatchesPublishedValue()
    {
        // RFC 9562 appendix A.4: UUIDv5 of "www.example.com" in the DNS namespace.
        var dns = new Guid("6ba7b810-9dad-11d1-80b4-00c04fd430c8");

        Assert.Equal(new Guid("2ed6657d-e927-568b-95e1-2665a8aea6a2"), TenantResolver.CreateVersion5(dns, "www.example.com"));
    }

    [Theory]
    [InlineData("Authorization", "Bearer sk-abc", "sk-abc")]
    [InlineData("api-key", "azure-key", "azure-key")]
    [InlineData("x-api-key", "sk-ant-1", "sk-ant-1")]
    [InlineData("x-goog-api-key", "AIza1", "AIza1")]
    public void ResolveTenant_ApiKeyInAnyProviderHeader_IsUuidV5OfTheKey(string header, string value, string key)
    {
        var headers = new HeaderDictionary { [header] = value };

        var tenant = TenantResolver.ResolveTenant(headers, new QueryCollection());

        Assert.Equal(TenantResolver.CreateVersion5(TenantResolver.ApiKeyNamespace, key), tenant);
        Assert.Equal(5, tenant.Version);
    }

    [Fact]
    public void ResolveTenant_GeminiKeyInQuery_IsUsed()
    {
        var query = new QueryCollection(new Dictionary<string, Microsoft.Extensions.Primitives.StringValues> { ["key"] = "AIza2" });

        Assert.Equal(TenantResolver.CreateVersion5(TenantResolver.ApiKeyNamespace, "AIza2"), TenantResolver.ResolveTenant(new HeaderDictionary(), query));
    }

    [Theory]
    [InlineData("0b8f3c1e-8a54-4d8e-9f7a-2c3d4e5f6a7b", true)]
    [InlineData("not-a-uuid", false)]
    [InlineData("00000000-0000-0000-0000-000000000000", false)]
    public void ResolveTenant_TenantHeader_WinsOnlyWhenItIsAUuid(string value, bool wins)
    {
        var headers = new HeaderDictionary { [TenantResolver.TenantHeader] = value, ["Authorization"] = "Bearer k" };

        var tenant = TenantResolver.ResolveTenant(headers, new QueryCollection());

        Assert.Equal(wins ? Guid.Parse(value) : TenantResolver.CreateVersion5(TenantResolver.ApiKeyNamespace, "k"), tenant);
    }

    [Fact]
    public void ResolveTenant_NoKeyNoHeader_IsTheDefaultTenant()
        => Assert.Equal(TenantResolver.DefaultTenantId, TenantResolver.ResolveTenant(new HeaderDictionary(), new QueryCollection()));

    [Theory]
    [InlineData(null, null)]
    [InlineData("  ", null)]
    [InlineData(" bot-7 ", "bot-7")]
    public void ResolveAgent_Header_IsTrimmed(string? value, string? expected)
    {
        var headers = new HeaderDictionary();
        if (value is not null)
        {
            headers[TenantResolver.AgentHeader] = value;
        }

        Assert.Equal(expected, TenantResolver.ResolveAgent(headers));
    }

    [Fact]
    public void ResolveAgent_LongHeader_IsCapped()
        => Assert.Equal(TenantResolver.MaxAgentIdLength, TenantResolver.ResolveAgent(new HeaderDictionary { [TenantResolver.AgentHeader] = new string('a', 500) })!.Length);
}
