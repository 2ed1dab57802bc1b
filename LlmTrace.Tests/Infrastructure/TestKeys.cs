using LlmTrace.Domain.Tenancy;

namespace LlmTrace.Tests.Infrastructure;

/// <summary>A fresh fake provider key per test, so each test's traces sit in a tenant of their own.</summary>
public static class TestKeys
{
    public static string NewKey() => "sk-test-" + Guid.NewGuid().ToString("N");

    public static Guid TenantOf(string key) => TenantResolver.CreateVersion5(TenantResolver.ApiKeyNamespace, key);
}
