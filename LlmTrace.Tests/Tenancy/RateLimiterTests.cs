using LlmTrace.Domain.Limits;
using LlmTrace.Domain.Records;
using LlmTrace.Tests.Costs;
using Microsoft.Extensions.Time.Testing;

namespace LlmTrace.Tests.Tenancy;

public sealed class RateLimiterTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 26, 10, 0, 30, TimeSpan.Zero);

    [Fact]
    public async Task Requests_OverTheLimit_AreRefusedUntilTheNextMinute()
    {
        var time = new FakeTimeProvider(Start);
        var limiter = new RateLimiter(new InMemoryRateLimitStore(), new OptionsMonitorStub<RateLimitOptions>(new()), time);
        RateRule[] rules = [new("t:x:r", RateDimension.Requests, 3, 1)];

        var decisions = new List<RateDecision>();
        for (var i = 0; i < 4; i++)
        {
            decisions.Add(await limiter.AcquireAsync(rules, CancellationToken.None));
        }

        time.Advance(TimeSpan.FromSeconds(30));
        var nextMinute = await limiter.AcquireAsync(rules, CancellationToken.None);

        Assert.Equal([true, true, true, false], decisions.Select(d => d.Allowed));
        Assert.Equal([2L, 1L, 0L, 0L], decisions.Select(d => d.State.Single().Remaining));
        Assert.Equal(30, decisions[3].ResetSeconds);
        Assert.True(nextMinute.Allowed);
    }

    [Fact]
    public async Task Counters_NamedByClients_DoNotGrowWithoutBound_AndALiveLimitStillHolds()
    {
        var time = new FakeTimeProvider(Start);
        var limiter = new RateLimiter(new InMemoryRateLimitStore(), new OptionsMonitorStub<RateLimitOptions>(new()), time);
        RateRule[] tenant = [new("t:x:r", RateDimension.Requests, 2, 1)];
        await limiter.AcquireAsync(tenant, CancellationToken.None);
        await limiter.AcquireAsync(tenant, CancellationToken.None);

        // An attacker invents an agent id per call, in this minute and the next.
        for (var i = 0; i < RateLimiter.MaxPools + 10; i++)
        {
            await limiter.AcquireAsync([new($"t:x:a:{i}:r", RateDimension.Requests, 100, 1)], CancellationToken.None);
        }

        var stillRefused = await limiter.AcquireAsync(tenant, CancellationToken.None);
        time.Advance(TimeSpan.FromMinutes(1));
        await limiter.AcquireAsync([new("t:x:a:late:r", RateDimension.Requests, 100, 1)], CancellationToken.None);

        Assert.False(stillRefused.Allowed); // starting over forgot only the local allowance: the store still counts
        Assert.True(limiter.PoolCount <= RateLimiter.MaxPools, $"{limiter.PoolCount} pools");
    }

    [Fact]
    public async Task Tokens_RealUsageAboveTheEstimate_IsChargedBeforeTheNextCall()
    {
        var limiter = new RateLimiter(new InMemoryRateLimitStore(), new OptionsMonitorStub<RateLimitOptions>(new()), new FakeTimeProvider(Start));

        var first = await limiter.AcquireAsync([new("t:x:t", RateDimension.Tokens, 100, 40)], CancellationToken.None);
        limiter.Reconcile(first.Lease, 90); // used 90, not 40: 10 left
        var tooMuch = await limiter.AcquireAsync([new("t:x:t", RateDimension.Tokens, 100, 20)], CancellationToken.None);
        var fits = await limiter.AcquireAsync([new("t:x:t", RateDimension.Tokens, 100, 10)], CancellationToken.None);

        Assert.True(first.Allowed);
        Assert.False(tooMuch.Allowed);
        Assert.True(fits.Allowed);
    }

    [Fact]
    public async Task Overage_FoundAfterTheMinuteEnded_IsChargedToTheCurrentMinute()
    {
        var time = new FakeTimeProvider(Start);
        var limiter = new RateLimiter(new InMemoryRateLimitStore(), new OptionsMonitorStub<RateLimitOptions>(new()), time);

        var stream = await limiter.AcquireAsync([new("t:s:t", RateDimension.Tokens, 100, 10)], CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(40)); // the stream ends in the next minute, having used 90 tokens
        _ = await limiter.AcquireAsync([new("t:s:t", RateDimension.Tokens, 100, 1)], CancellationToken.None);
        limiter.Reconcile(stream.Lease, 90);
        var refused = await limiter.AcquireAsync([new("t:s:t", RateDimension.Tokens, 100, 50)], CancellationToken.None);

        Assert.True(stream.Allowed);
        Assert.False(refused.Allowed); // 1 + 80 overage leaves 19
    }

    [Fact]
    public async Task ARefusedTokenCheck_GivesBackTheRequestItTook()
    {
        var limiter = new RateLimiter(new InMemoryRateLimitStore(), new OptionsMonitorStub<RateLimitOptions>(new()), new FakeTimeProvider(Start));
        RateRule[] big = [new("t:y:r", RateDimension.Requests, 2, 1), new("t:y:t", RateDimension.Tokens, 100, 500)];
        RateRule[] small = [new("t:y:r", RateDimension.Requests, 2, 1), new("t:y:t", RateDimension.Tokens, 100, 50)];

        var refused = await limiter.AcquireAsync(big, CancellationToken.None);
        var a = await limiter.AcquireAsync(small, CancellationToken.None);
        var b = await limiter.AcquireAsync(small, CancellationToken.None);

        Assert.False(refused.Allowed);
        Assert.Equal(RateDimension.Tokens, refused.Exceeded!.Value.Dimension);
        Assert.True(a.Allowed && b.Allowed);
    }

    /// <summary>
    /// The documented Azure bound: instances sharing counters with a local allowance never admit more than the limit,
    /// and leave at most (instances × allowance) unused.
    /// </summary>
    [Fact]
    public async Task SharedCounters_FourInstancesWithAllowances_AdmitAtMostTheLimit()
    {
        var shared = new RecordRateLimitStore(new InMemoryRecordStore());
        var options = new OptionsMonitorStub<RateLimitOptions>(new RateLimitOptions { LocalAllowanceFraction = 0.05 });
        var time = new FakeTimeProvider(Start);
        var instances = Enumerable.Range(0, 4).Select(_ => new RateLimiter(shared, options, time)).ToArray();
        RateRule[] rules = [new("t:z:r", RateDimension.Requests, 200, 1)];

        var admitted = await Task.WhenAll(instances.Select(async limiter =>
        {
            var count = 0;
            for (var i = 0; i < 100; i++)
            {
                count += (await limiter.AcquireAsync(rules, CancellationToken.None)).Allowed ? 1 : 0;
            }

            return count;
        }));

        Assert.InRange(admitted.Sum(), 200 - (4 * 10), 200);
    }
}
