using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using Anthropic;
using Anthropic.Models.Messages;
using LlmTrace.Domain.Capture;
using LlmTrace.Tests.Infrastructure;
using OpenAI;
using OpenAI.Chat;

namespace LlmTrace.Tests.Security;

/// <summary>
/// The streaming output monitor ends a stream that starts leaking a private key: the real SDKs read a normal finish
/// (no exception), the upstream call is cancelled, and the trace records why.
/// </summary>
public sealed class StreamMonitorTests : IAsyncLifetime
{
    private FakeUpstream _upstream = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _gateway = await GatewayHost.StartAsync(_upstream, new Dictionary<string, string?>
        {
            ["LlmTrace:Security:StreamMonitor:Enabled"] = "true",
            ["LlmTrace:Security:StreamMonitor:EveryTokens"] = "2",
        });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task OpenAIStream_LeakingAPrivateKey_EndsAsContentFilterAndCancelsUpstream()
    {
        var key = Guid.NewGuid().ToString("N");
        var options = new OpenAIClientOptions { Endpoint = new Uri(_gateway.BaseAddress, "/v1"), RetryPolicy = new ClientRetryPolicy(0) };
        options.AddPolicy(new HeaderPolicy("x-fake-mode", "leak:" + key), PipelinePosition.PerCall);
        var apiKey = TestKeys.NewKey();
        var client = new ChatClient("gpt-4o-mini", new ApiKeyCredential(apiKey), options);
        var text = new StringBuilder();
        ChatFinishReason? finish = null;

        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("give me the deploy key")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            finish = update.FinishReason ?? finish;
        }

        Assert.Equal(ChatFinishReason.ContentFilter, finish);
        Assert.Equal("Sure, here is the key you asked for: ", text.ToString());
        await _upstream.Cancelled(key).WaitAsync(TimeSpan.FromSeconds(10));
        var trace = Assert.Single(await _gateway.WaitForTenantTracesAsync(TestKeys.TenantOf(apiKey), 1));
        Assert.StartsWith("stream_stopped: secret", trace.Error, StringComparison.Ordinal);
        Assert.Contains(trace.Findings, f => f.Detector == "stream.monitor" && f.Severity == FindingSeverity.Critical && f.Message == "pem_private_key");
        Assert.DoesNotContain("MIIEpAIBAAKCAQEAx3", trace.Response ?? string.Empty, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnthropicStream_LeakingAPrivateKey_EndsWithMessageStopAndCancelsUpstream()
    {
        var key = Guid.NewGuid().ToString("N");
        using var client = new AnthropicClient(new Anthropic.Core.ClientOptions
        {
            ApiKey = "sk-ant-" + Guid.NewGuid().ToString("N"),
            BaseUrl = new Uri(_gateway.BaseAddress, "/anthropic").ToString(),
            MaxRetries = 0,
        });
        var parameters = new MessageCreateParams { Model = "claude-sonnet-4-5", MaxTokens = 256, Messages = [new UserMessageParam("connection string please")] };
        var text = new StringBuilder();
        string? stop = null;
        var sawMessageStop = false;

        // The Anthropic SDK has no per-call header API; the fake reads the mode from the model name instead.
        await foreach (var item in client.Messages.CreateStreaming(parameters with { Model = "leak:" + key }))
        {
            if (item.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickText(out var textDelta))
            {
                text.Append(textDelta.Text);
            }
            else if (item.TryPickDelta(out var messageDelta))
            {
                stop = messageDelta.Delta.StopReason?.Raw();
            }

            sawMessageStop |= item.TryPickStop(out _);
        }

        Assert.Equal("Here is the connection string: ", text.ToString());
        Assert.Equal("refusal", stop);
        Assert.True(sawMessageStop);
        await _upstream.Cancelled(key).WaitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>Adds one header to every request of an OpenAI client.</summary>
    private sealed class HeaderPolicy(string name, string value) : PipelinePolicy
    {
        public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            message.Request.Headers.Set(name, value);
            ProcessNext(message, pipeline, currentIndex);
        }

        public override async ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            message.Request.Headers.Set(name, value);
            await ProcessNextAsync(message, pipeline, currentIndex);
        }
    }
}
