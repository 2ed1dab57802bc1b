using System.Net;
using LlmTrace.Domain.Capture;
using LlmTrace.SelfHost.Infrastructure;
using LlmTrace.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LlmTrace.Tests.Tenancy;

/// <summary>SelfHost deletes traces past their tenant's retentionDays, or past the store's default for other tenants.</summary>
public sealed class RetentionTests
{
    [Fact]
    public async Task Purge_KeepsEachTenantsTracesForItsOwnRetention()
    {
        await using var gateway = await GatewayHost.StartAsync(null, new Dictionary<string, string?> { ["LlmTrace:Sqlite:RetentionDays"] = "30" });
        using var http = gateway.CreateClient();
        var shortLived = Guid.NewGuid();
        var longLived = Guid.NewGuid();
        var other = Guid.NewGuid();
        Assert.Equal(HttpStatusCode.Created, (await new ApiClient(http).PostAsync("/api/tenants", $$"""{"tenantId":"{{shortLived}}","name":"short","retentionDays":1}""")).Status);
        Assert.Equal(HttpStatusCode.Created, (await new ApiClient(http).PostAsync("/api/tenants", $$"""{"tenantId":"{{longLived}}","name":"long","retentionDays":365}""")).Status);
        var now = DateTimeOffset.UtcNow;
        Trace Old(Guid tenant, int days) => new() { TraceId = Guid.NewGuid(), TenantId = tenant, Provider = "openai", Endpoint = "/v1/x", Method = "POST", StartedAt = now.AddDays(-days) };
        var traces = new[] { Old(shortLived, 2), Old(shortLived, 0), Old(longLived, 100), Old(other, 2), Old(other, 100) };
        await gateway.Store.UpsertAsync(traces, CancellationToken.None);

        var deleted = await gateway.Services.GetRequiredService<LlmTrace.Domain.Maintenance.GatewayMaintenance>().PurgeAsync(CancellationToken.None);

        Assert.Equal(2, deleted);
        Assert.Null(await gateway.Store.GetAsync(traces[0].TraceId, CancellationToken.None)); // 2 days > its 1-day retention
        Assert.NotNull(await gateway.Store.GetAsync(traces[1].TraceId, CancellationToken.None));
        Assert.NotNull(await gateway.Store.GetAsync(traces[2].TraceId, CancellationToken.None)); // 100 days < its 365
        Assert.NotNull(await gateway.Store.GetAsync(traces[3].TraceId, CancellationToken.None));
        Assert.Null(await gateway.Store.GetAsync(traces[4].TraceId, CancellationToken.None)); // 100 days > the default 30
    }
}
