using LlmTrace.Domain.Processing;
using LlmTrace.Functions.Infrastructure;
using LlmTrace.SelfHost.Infrastructure;
using LlmTrace.Tests.Infrastructure;

namespace LlmTrace.Tests.Processing;

/// <summary>The rules every <see cref="IPoisonStore"/> keeps, run against each adapter.</summary>
public abstract class PoisonStoreContractTests : IAsyncLifetime
{
    protected IPoisonStore Store { get; set; } = null!;

    public abstract Task InitializeAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Save_ThenGetListRemove_KeepsTheMessageByteForByte()
    {
        var message = "{\"prompt\":\"quotes \\\" and\\nnew lines, ünïcödé, 漢字, 🚀\",\"pad\":\"" + new string('x', 256 * 1024) + "\"}";

        var reference = await Store.SaveAsync("captures", "m-1", message, CancellationToken.None);
        var stored = await Store.GetAsync(reference, CancellationToken.None);
        var listed = await Store.ListAsync(10, CancellationToken.None);
        await Store.RemoveAsync(reference, CancellationToken.None);
        await Store.RemoveAsync(reference, CancellationToken.None); // twice is harmless

        Assert.NotNull(stored);
        Assert.Equal(("captures", "m-1", message), (stored.Queue, stored.MessageId, stored.Message));
        Assert.Equal(reference, Assert.Single(listed).Reference);
        Assert.Null(await Store.GetAsync(reference, CancellationToken.None));
        Assert.Empty(await Store.ListAsync(10, CancellationToken.None));
    }

    [Fact]
    public async Task List_IsOldestFirst_AndTakesAtMostMax()
    {
        foreach (var id in new[] { "a", "b", "c" })
        {
            await Store.SaveAsync("anomaly", id, "{}", CancellationToken.None);
        }

        var two = await Store.ListAsync(2, CancellationToken.None);

        Assert.Equal(["a", "b"], two.Select(e => e.MessageId));
    }

    [Fact]
    public async Task Save_SameMessageTwice_KeepsOneEntryWithTheLaterBody()
    {
        var first = await Store.SaveAsync("security", "m-2", "{\"n\":1}", CancellationToken.None);
        var second = await Store.SaveAsync("security", "m-2", "{\"n\":2}", CancellationToken.None);

        Assert.Equal(first, second);
        Assert.Equal("{\"n\":2}", Assert.Single(await Store.ListAsync(10, CancellationToken.None)).Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("nope")]
    [InlineData("captures/unknown")]
    [InlineData("../../etc/passwd")]
    [InlineData("captures/../../secrets")]
    public async Task Get_UnknownOrHostileReference_IsNullAndRemoveChangesNothing(string reference)
    {
        var kept = await Store.SaveAsync("captures", "kept", "{}", CancellationToken.None);

        var found = await Store.GetAsync(reference, CancellationToken.None);
        await Store.RemoveAsync(reference, CancellationToken.None);

        Assert.Null(found);
        Assert.Equal(kept, Assert.Single(await Store.ListAsync(10, CancellationToken.None)).Reference);
    }
}

public sealed class InMemoryPoisonStoreTests : PoisonStoreContractTests
{
    public override Task InitializeAsync()
    {
        Store = new InMemoryPoisonStore(TimeProvider.System);
        return Task.CompletedTask;
    }
}

public sealed class SqlitePoisonStoreTests : PoisonStoreContractTests
{
    private SqliteDatabase _database = null!;

    public override async Task InitializeAsync()
    {
        _database = await TestSqlite.CreateAsync("poison");
        Store = new SqlitePoisonStore(_database, TimeProvider.System);
    }

    public override async Task DisposeAsync() => await _database.DisposeAsync();
}

/// <summary>Against Blob Storage on Azurite.</summary>
public sealed class BlobPoisonStoreTests : PoisonStoreContractTests
{
    public override async Task InitializeAsync() => Store = new BlobPoisonStore(await Azurite.CreateClientsAsync());
}
