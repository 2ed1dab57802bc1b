using LlmTrace.Domain.Records;
using LlmTrace.Domain.Tenancy;
using Microsoft.Extensions.Time.Testing;

namespace LlmTrace.Tests.Tenancy;

/// <summary>The audit log's keys: ordered within a process, and never colliding between processes writing in the same tick.</summary>
public sealed class AuditLogTests
{
    [Fact]
    public async Task TwoInstances_WritingInTheSameTick_BothKeepTheirEntries_InEachInstancesOrder()
    {
        var store = new InMemoryRecordStore();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 9, 0, 0, TimeSpan.Zero));
        var first = new AuditLog(store, time);
        var second = new AuditLog(store, time); // another Functions instance, same storage

        await first.AppendAsync("admin", "tenant.create", null, "a", [], CancellationToken.None);
        await second.AppendAsync("admin", "tenant.create", null, "b", [], CancellationToken.None);
        await first.AppendAsync("admin", "tenant.update", null, "a", [], CancellationToken.None);
        var (items, _) = await first.QueryAsync(null, null, null, null, 10, CancellationToken.None);

        Assert.Equal(3, items.Count);
        Assert.Equal(["tenant.create", "tenant.update"], items.Where(e => e.Target == "a").Select(e => e.Action));
        Assert.Single(items, e => e.Target == "b");
    }
}
