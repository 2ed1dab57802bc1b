using LlmTrace.Domain.Limits;
using LlmTrace.Domain.Records;
using LlmTrace.Functions.Infrastructure;
using LlmTrace.SelfHost.Infrastructure;
using LlmTrace.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace LlmTrace.Tests.Tenancy;

/// <summary>The rules every <see cref="IRecordStore"/> keeps, run against in-memory, SQLite and Table Storage (Azurite).</summary>
public abstract class RecordStoreContractTests : IAsyncLifetime
{
    protected IRecordStore Store { get; set; } = null!;

    public abstract Task InitializeAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Insert_Get_Replace_Delete_RoundTripWithVersionChecks()
    {
        var partition = Guid.NewGuid().ToString("N");
        var etag = await Store.InsertAsync(RecordTables.Tenants, partition, "k1", """{"v":1}""", CancellationToken.None);

        await Assert.ThrowsAsync<RecordConflictException>(() => Store.InsertAsync(RecordTables.Tenants, partition, "k1", """{"v":9}""", CancellationToken.None));
        var read = await Store.GetAsync(RecordTables.Tenants, partition, "k1", CancellationToken.None);
        var newTag = await Store.ReplaceAsync(RecordTables.Tenants, partition, "k1", """{"v":2}""", etag, CancellationToken.None);
        // The first version's tag no longer matches: a lost update is refused, not applied.
        await Assert.ThrowsAsync<RecordConflictException>(() => Store.ReplaceAsync(RecordTables.Tenants, partition, "k1", """{"v":3}""", etag, CancellationToken.None));
        var after = await Store.GetAsync(RecordTables.Tenants, partition, "k1", CancellationToken.None);
        var deleted = await Store.DeleteAsync(RecordTables.Tenants, partition, "k1", CancellationToken.None);
        var deletedAgain = await Store.DeleteAsync(RecordTables.Tenants, partition, "k1", CancellationToken.None);

        Assert.Equal(("k1", """{"v":1}""", etag), (read!.Key, read.Json, read.ETag));
        Assert.NotEqual(etag, newTag);
        Assert.Equal(("""{"v":2}""", newTag), (after!.Json, after.ETag));
        Assert.True(deleted);
        Assert.False(deletedAgain);
        Assert.Null(await Store.GetAsync(RecordTables.Tenants, partition, "k1", CancellationToken.None));
        await Assert.ThrowsAsync<RecordConflictException>(() => Store.ReplaceAsync(RecordTables.Tenants, partition, "k1", "{}", newTag, CancellationToken.None));

        // Created again: an ETag of the record that was deleted must not match the new one.
        var reborn = await Store.InsertAsync(RecordTables.Tenants, partition, "k1", """{"v":4}""", CancellationToken.None);
        Assert.NotEqual(etag, reborn);
        Assert.NotEqual(newTag, reborn);
        await Assert.ThrowsAsync<RecordConflictException>(() => Store.ReplaceAsync(RecordTables.Tenants, partition, "k1", "{}", etag, CancellationToken.None));
    }

    [Fact]
    public async Task List_PagesInKeyOrder_WithinOnePartitionOnly()
    {
        var partition = Guid.NewGuid().ToString("N");
        foreach (var key in new[] { "c", "a", "e", "b", "d" })
        {
            await Store.InsertAsync(RecordTables.Audit, partition, key, $$"""{"k":"{{key}}"}""", CancellationToken.None);
        }

        await Store.InsertAsync(RecordTables.Audit, partition + "x", "a0", "{}", CancellationToken.None);

        var first = await Store.ListAsync(RecordTables.Audit, partition, null, 2, CancellationToken.None);
        var second = await Store.ListAsync(RecordTables.Audit, partition, first.NextKey, 2, CancellationToken.None);
        var third = await Store.ListAsync(RecordTables.Audit, partition, second.NextKey, 2, CancellationToken.None);

        Assert.Equal(["a", "b"], first.Items.Select(i => i.Key));
        Assert.Equal(["c", "d"], second.Items.Select(i => i.Key));
        Assert.Equal(["e"], third.Items.Select(i => i.Key));
        Assert.Null(third.NextKey);
    }

    [Fact]
    public async Task RateCounters_ManyProcessesRacing_NeverGrantPastTheLimit()
    {
        var counters = new RecordRateLimitStore(Store);
        var counter = "t:" + Guid.NewGuid().ToString("N") + ":r";

        // 8 callers each ask for 3 units at a time, 10 times, against a limit of 100: exactly 100 can be granted.
        var grants = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            long total = 0;
            for (var i = 0; i < 10; i++)
            {
                total += (await counters.ReserveAsync(counter, "202611261200", 100, 3, CancellationToken.None)).Granted;
            }

            return total;
        }));
        var nextMinute = await counters.ReserveAsync(counter, "202611261201", 100, 5, CancellationToken.None);
        var laggingClock = await counters.ReserveAsync(counter, "202611261200", 100, 5, CancellationToken.None);
        var stillNext = await counters.ReserveAsync(counter, "202611261201", 100, 5, CancellationToken.None);

        Assert.Equal(100, grants.Sum());
        Assert.Equal(new RateGrant(5, 5), nextMinute);
        // An instance whose clock is behind gets nothing and does not reset the fresher counter.
        Assert.Equal(0, laggingClock.Granted);
        Assert.Equal(new RateGrant(5, 10), stillNext);
    }
}

public sealed class InMemoryRecordStoreTests : RecordStoreContractTests
{
    public override Task InitializeAsync()
    {
        Store = new InMemoryRecordStore();
        return Task.CompletedTask;
    }
}

public sealed class SqliteRecordStoreTests : RecordStoreContractTests
{
    private SqliteDatabase _database = null!;

    public override async Task InitializeAsync()
    {
        _database = await TestSqlite.CreateAsync("records");
        Store = new SqliteRecordStore(_database);
    }

    public override async Task DisposeAsync() => await _database.DisposeAsync();
}

/// <summary>Against Table Storage on Azurite, with the tables provisioned first, as infra/ or the local initializer does.</summary>
public sealed class TableRecordStoreTests : RecordStoreContractTests
{
    private TableRecordStore _tables = null!;

    public override async Task InitializeAsync()
    {
        var clients = await Azurite.CreateClientsAsync();
        Store = _tables = new TableRecordStore(clients, Options.Create(new AzureStorageOptions { RecordTablePrefix = "rec" + Guid.NewGuid().ToString("N")[..10] }));
        foreach (var table in RecordTables.All)
        {
            await _tables.Table(table).CreateIfNotExistsAsync();
        }
    }

    [Fact]
    public async Task MissingTable_IsADeploymentErrorNamingTheTable_NotCreatedOnTheRequestPath()
    {
        await _tables.Table(RecordTables.Audit).DeleteAsync();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Store.GetAsync(RecordTables.Audit, "p", "k", CancellationToken.None));

        Assert.Contains(_tables.Table(RecordTables.Audit).Name, error.Message, StringComparison.Ordinal);
        Assert.Contains("infra/", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidOperationException>(() => Store.GetAsync(RecordTables.Audit, "p", "k", CancellationToken.None));
    }
}
