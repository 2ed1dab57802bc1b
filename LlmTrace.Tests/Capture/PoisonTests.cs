using System.Net;
using System.Text.Json;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Processing;
using LlmTrace.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace LlmTrace.Tests.Capture;

/// <summary>SelfHost's dead-letter path: a trace that always fails processing is set aside, alerted on, listed and replayable; the rest go on.</summary>
public sealed class PoisonTests
{
    [Fact]
    public async Task TraceThatAlwaysFails_IsSetAside_OthersAreStored_AndItCanBeReplayed()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var failing = new FailingProcessor();
        await using var gateway = await GatewayHost.StartAsync(
            upstream,
            new Dictionary<string, string?> { ["LlmTrace:Capture:MaxAttempts"] = "2", ["LlmTrace:Capture:BatchDelayMilliseconds"] = "200" },
            builder => builder.Services.AddSingleton<ITraceProcessor>(sp => failing.Wrapping(sp.GetRequiredService<TracePipeline>())));
        var client = new ApiClient(gateway.CreateClient(), "sk-test");

        var bad = await client.ChatAsync(content: "poison-me please");
        var good = await client.ChatAsync(content: "an ordinary call");
        var goodTrace = await gateway.WaitForTraceAsync(Guid.Parse(good.Header("x-llmtrace-trace-id")!), TimeSpan.FromSeconds(30));
        var badId = Guid.Parse(bad.Header("x-llmtrace-trace-id")!);

        var admin = new ApiClient(gateway.CreateClient());
        JsonElement item = default;
        for (var i = 0; i < 150 && item.ValueKind == JsonValueKind.Undefined; i++)
        {
            var list = await admin.GetAsync("/api/poison");
            Assert.Equal(HttpStatusCode.OK, list.Status);
            item = list.Json.GetProperty("items").EnumerateArray().FirstOrDefault();
            await Task.Delay(item.ValueKind == JsonValueKind.Undefined ? 200 : 0);
        }

        Assert.Equal("user: an ordinary call", goodTrace.Prompt);
        Assert.Equal(badId, item.GetProperty("traceId").GetGuid());
        Assert.Equal(PoisonReplayer.InProcessQueue, item.GetProperty("queue").GetString());
        Assert.Null(await gateway.Store.GetAsync(badId, CancellationToken.None));

        failing.Healed = true;
        var replay = await admin.SendAsync(HttpMethod.Post, $"/api/poison/{item.GetProperty("id").GetString()}/replay");
        Assert.Equal(HttpStatusCode.Accepted, replay.Status);
        var replayed = await gateway.WaitForTraceAsync(badId, TimeSpan.FromSeconds(30));
        Assert.Equal("user: poison-me please", replayed.Prompt);
        Assert.Empty((await admin.GetAsync("/api/poison")).Json.GetProperty("items").EnumerateArray());
        Assert.Equal(HttpStatusCode.NotFound, (await admin.SendAsync(HttpMethod.Post, $"/api/poison/{item.GetProperty("id").GetString()}/replay")).Status);
    }

    /// <summary>A processing stage that fails every trace whose prompt says "poison-me", until healed.</summary>
    private sealed class FailingProcessor
    {
        public volatile bool Healed;

        public ITraceProcessor Wrapping(ITraceProcessor inner) => new Processor(this, inner);

        private sealed class Processor(FailingProcessor owner, ITraceProcessor inner) : ITraceProcessor
        {
            public Task ProcessAsync(IReadOnlyList<Trace> traces, CancellationToken cancellationToken)
                => !owner.Healed && traces.Any(t => t.Prompt?.Contains("poison-me", StringComparison.Ordinal) == true)
                    ? throw new InvalidOperationException("this stage cannot handle the trace")
                    : inner.ProcessAsync(traces, cancellationToken);
        }
    }
}
