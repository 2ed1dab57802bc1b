using System.Globalization;
using LlmTrace.Domain.Folding;

namespace LlmTrace.Tests.Folding;

/// <summary>
/// The exactly-once algorithm itself, over a store with real optimistic concurrency (versions, conditional commits,
/// partitions, a commit-size limit) and writers racing on it: what every adapter relies on, proven once.
/// </summary>
public sealed class ExactlyOnceFoldTests
{
    [Fact]
    public async Task RacingWriters_WithRedeliveries_CountEveryItemExactlyOnce()
    {
        var store = new VersionedStore(maxItemsPerCommit: 3, commitFailsOnExistingMarker: true);
        var items = Enumerable.Range(0, 60).Select(i => new Item(Guid.NewGuid(), [$"p{i % 3}:total", $"p{i % 3}:k{i % 4}", "all:total"], i + 1)).ToList();
        var batches = items.Chunk(7).ToList();

        // Eight writers, each delivering its batch and its neighbour's: every item arrives twice, concurrently.
        await Task.WhenAll(batches.Select((batch, i) => Task.Run(() =>
            ExactlyOnceFold.ApplyAsync([.. batch, .. batches[(i + 1) % batches.Count]], Rules.Instance, store, TimeProvider.System, CancellationToken.None))));

        Assert.Equal(items.Sum(i => i.Amount), store.Row("all:total"));
        for (var p = 0; p < 3; p++)
        {
            Assert.Equal(items.Where((_, i) => i % 3 == p).Sum(i => i.Amount), store.Row($"p{p}:total"));
        }

        Assert.Equal(items.Count * 2, store.MarkerCount); // one per item in each of its two partitions
        Assert.True(store.Conflicts > 0, "the writers never met, so the test proved nothing about contention");
    }

    [Fact]
    public async Task Conflict_RereadsAndFoldsOnTopOfTheOtherWriter()
    {
        var store = new VersionedStore(maxItemsPerCommit: 10, commitFailsOnExistingMarker: false) { RivalCommits = 2 };
        var item = new Item(Guid.NewGuid(), ["a:x"], 5);

        var results = await ExactlyOnceFold.ApplyAsync([item], Rules.Instance, store, TimeProvider.System, CancellationToken.None);

        Assert.Equal(2 * VersionedStore.RivalAmount + 5, store.Row("a:x")); // both rival writes kept, and ours once
        Assert.Equal(2 * VersionedStore.RivalAmount, results[0]); // the result of the attempt that committed
        Assert.Equal(2, store.Conflicts);
    }

    [Fact]
    public async Task ItemSeenBefore_GetsItsFirstResult_InAnotherBatchOrTheSameOne()
    {
        var store = new VersionedStore(maxItemsPerCommit: 2, commitFailsOnExistingMarker: true);
        var first = new Item(Guid.NewGuid(), ["a:x"], 3);
        var second = new Item(Guid.NewGuid(), ["a:x"], 4);

        var once = await ExactlyOnceFold.ApplyAsync([first], Rules.Instance, store, TimeProvider.System, CancellationToken.None);
        // The repeat of `first` lands in another chunk (two items per commit) and is caught by the commit, then the read.
        var again = await ExactlyOnceFold.ApplyAsync([second, second, first], Rules.Instance, store, TimeProvider.System, CancellationToken.None);

        Assert.Equal([0L], once);
        Assert.Equal([3L, 3L, 0L], again); // second's first result is repeated in-batch; first's comes from its marker
        Assert.Equal(7, store.Row("a:x"));
    }

    [Fact]
    public async Task PartitionThatNeverSettles_ThrowsAndWritesNothingOfTheChunk()
    {
        var store = new VersionedStore(maxItemsPerCommit: 10, commitFailsOnExistingMarker: false) { RivalCommits = int.MaxValue };
        var item = new Item(Guid.NewGuid(), ["a:x"], 5);

        await Assert.ThrowsAsync<FoldConflictException>(() => ExactlyOnceFold.ApplyAsync([item], Rules.Instance, store, TimeProvider.System, CancellationToken.None));

        Assert.Equal(ExactlyOnceFold.MaxAttempts, store.Conflicts);
        Assert.Equal(0, store.MarkerCount);
        Assert.Equal(ExactlyOnceFold.MaxAttempts * VersionedStore.RivalAmount, store.Row("a:x")); // only the rival's writes
    }

    [Fact]
    public async Task ItemWithoutRows_IsRefused()
    {
        var store = new VersionedStore(maxItemsPerCommit: 10, commitFailsOnExistingMarker: false);

        await Assert.ThrowsAsync<InvalidOperationException>(() => ExactlyOnceFold.ApplyAsync([new Item(Guid.NewGuid(), [], 1)], Rules.Instance, store, TimeProvider.System, CancellationToken.None));
        Assert.Equal(0, store.MarkerCount);
    }

    private sealed record Item(Guid Id, string[] Keys, long Amount);

    /// <summary>Adds an item's amount to each of its rows; the result is the first row's value before (kept as the memo).</summary>
    private sealed class Rules : IFoldRules<Item, string, long, long>
    {
        public static Rules Instance { get; } = new();

        public Guid IdOf(Item item) => item.Id;

        public DateTimeOffset AtOf(Item item) => DateTimeOffset.UnixEpoch;

        public IReadOnlyList<string> KeysOf(Item item) => item.Keys;

        public long Empty(string key) => 0;

        public long Fold(Item item, FoldRows<string, long> rows)
        {
            long? before = null;
            foreach (var key in item.Keys.Where(rows.Contains))
            {
                before ??= rows[key];
                rows[key] += item.Amount;
            }

            return before ?? -1;
        }

        public string? Memo(long result) => result.ToString(CultureInfo.InvariantCulture);

        public long Repeat(Item item, string? memo) => long.Parse(memo!, CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// A store with what Table Storage has: partitions (the key's prefix), row versions, commits that fail when a row
    /// changed or a marker exists, and a commit-size limit. Every call yields, so concurrent batches interleave; a rival
    /// writer can change a row between an attempt's read and its commit.
    /// </summary>
    private sealed class VersionedStore(int maxItemsPerCommit, bool commitFailsOnExistingMarker) : IFoldStore<string, long>, IFoldSession<string, long>
    {
        public const long RivalAmount = 1000;

        private readonly Lock _gate = new();
        private readonly Dictionary<string, (long Value, long Version)> _rows = [];
        private readonly Dictionary<(string Partition, Guid Id), string?> _markers = [];
        private int _conflicts;

        public int RivalCommits { get; init; }

        public int Conflicts => Volatile.Read(ref _conflicts);

        public int MarkerCount
        {
            get
            {
                lock (_gate)
                {
                    return _markers.Count;
                }
            }
        }

        public int MaxItemsPerCommit => maxItemsPerCommit;

        public bool CommitFailsOnExistingMarker => commitFailsOnExistingMarker;

        public long Row(string key)
        {
            lock (_gate)
            {
                return _rows.GetValueOrDefault(key).Value;
            }
        }

        public string PartitionOf(string key) => key[..key.IndexOf(':', StringComparison.Ordinal)];

        public Task RunAsync(Func<IFoldSession<string, long>, Task> work, CancellationToken cancellationToken) => work(this);

        public async Task<IReadOnlyDictionary<Guid, string?>> ReadMarkersAsync(string partition, IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken)
        {
            await Task.Yield();
            lock (_gate)
            {
                return ids.Where(id => _markers.ContainsKey((partition, id))).ToDictionary(id => id, id => _markers[(partition, id)]);
            }
        }

        public async Task<IReadOnlyDictionary<string, StoredRow<long>>> ReadRowsAsync(string partition, IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
        {
            Assert.All(keys, k => Assert.Equal(partition, PartitionOf(k)));
            await Task.Yield();
            lock (_gate)
            {
                return keys.Where(_rows.ContainsKey).ToDictionary(k => k, k => new StoredRow<long>(_rows[k].Value, _rows[k].Version.ToString(CultureInfo.InvariantCulture)));
            }
        }

        public async Task<bool> TryCommitAsync(string partition, IReadOnlyList<RowWrite<string, long>> rows, IReadOnlyList<FoldMarker> markers, CancellationToken cancellationToken)
        {
            Assert.InRange(markers.Count, 1, maxItemsPerCommit);
            await Task.Yield();
            lock (_gate)
            {
                if (_conflicts < RivalCommits)
                {
                    foreach (var row in rows)
                    {
                        var current = _rows.GetValueOrDefault(row.Key);
                        _rows[row.Key] = (current.Value + RivalAmount, current.Version + 1);
                    }
                }

                var stale = rows.Any(r => _rows.TryGetValue(r.Key, out var current)
                    ? r.Read?.Version != current.Version.ToString(CultureInfo.InvariantCulture)
                    : r.Read is not null);
                if (stale || markers.Any(m => _markers.ContainsKey((partition, m.Id))))
                {
                    _conflicts++;
                    return false;
                }

                foreach (var row in rows)
                {
                    _rows[row.Key] = (row.Row, _rows.GetValueOrDefault(row.Key).Version + 1);
                }

                foreach (var marker in markers)
                {
                    _markers.Add((partition, marker.Id), marker.Memo);
                }

                return true;
            }
        }
    }
}
