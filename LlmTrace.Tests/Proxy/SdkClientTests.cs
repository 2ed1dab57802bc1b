using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using Anthropic;
using Anthropic.Models.Messages;
using Azure.AI.OpenAI;
using LlmTrace.Tests.Infrastructure;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;

namespace LlmTrace.Tests.Proxy;

/// <summary>The official SDKs, unchanged but for their base URL, against the gateway in front of a fake upstream.</summary>
public sealed class SdkClientTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private OpenAIClientOptions OpenAIOptions => new()
    {
        Endpoint = new Uri(fixture.Gateway.BaseAddress, "/v1"),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
    };

    [Fact]
    public async Task OpenAIChat_ThroughGateway_ReturnsAnswerAndRecordsTrace()
    {
        var key = TestKeys.NewKey();
        var client = new ChatClient("gpt-4o-mini", new ApiKeyCredential(key), OpenAIOptions);

        var result = await client.CompleteChatAsync([new SystemChatMessage("Be brief."), new UserChatMessage("Say hello")]);

        Assert.Equal("Hello from fake", result.Value.Content[0].Text);
        Assert.Equal(18, result.Value.Usage.TotalTokenCount);
        var traceId = Guid.Parse(result.GetRawResponse().Headers.First(h => h.Key == "x-llmtrace-trace-id").Value);
        var trace = await fixture.Gateway.WaitForTraceAsync(traceId);
        Assert.Equal(TestKeys.TenantOf(key), trace.TenantId);
        Assert.Equal("openai-compatible", trace.Provider);
        Assert.Equal("gpt-4o-mini", trace.Model);
        Assert.Equal("/v1/chat/completions", trace.Endpoint);
        Assert.Equal("chat", trace.Operation);
        Assert.Equal(200, trace.StatusCode);
        Assert.False(trace.Streaming);
        Assert.Equal((11, 7, 18, 3), (trace.PromptTokens, trace.CompletionTokens, trace.TotalTokens, trace.CachedPromptTokens));
        Assert.False(trace.UsageEstimated);
        Assert.Equal("system: Be brief.\nuser: Say hello", trace.Prompt);
        Assert.Equal("Hello from fake", trace.Response);
        Assert.Equal("stop", trace.FinishReason);
        Assert.True(trace.RequestBytes > 0);
        Assert.True(trace.ResponseBytes > 0);
        Assert.Null(trace.Error);
        Assert.DoesNotContain(key, System.Text.Json.JsonSerializer.Serialize(trace, LlmTrace.Domain.Capture.CaptureJsonContext.Default.Trace), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAIStreamingChat_ThroughGateway_AssemblesTextAndUsage()
    {
        var key = TestKeys.NewKey();
        var client = new ChatClient("gpt-4o-mini", new ApiKeyCredential(key), OpenAIOptions);
        var text = new StringBuilder();
        ChatTokenUsage? usage = null;

        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Stream please")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            usage ??= update.Usage;
        }

        Assert.Equal("Hello world!", text.ToString());
        Assert.NotNull(usage);
        Assert.Equal(25, usage.TotalTokenCount);
        var trace = Assert.Single(await fixture.Gateway.WaitForTenantTracesAsync(TestKeys.TenantOf(key), 1));
        Assert.True(trace.Streaming);
        Assert.Equal("Hello world!", trace.Response);
        Assert.Equal((21, 4, 25), (trace.PromptTokens, trace.CompletionTokens, trace.TotalTokens));
        Assert.False(trace.UsageInjected); // The .NET SDK asks for usage itself.
        Assert.NotNull(trace.TtftMs);
        Assert.Equal("stop", trace.FinishReason);
    }

    [Fact]
    public async Task OpenAIToolCalls_JsonAndStreamed_AreCapturedOnTheTrace()
    {
        var key = TestKeys.NewKey();
        var client = new ChatClient("gpt-4o", new ApiKeyCredential(key), OpenAIOptions);
        var tool = ChatTool.CreateFunctionTool("get_weather", "Weather for a city",
            BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"""));
        var options = new ChatCompletionOptions { Tools = { tool } };

        var completion = (await client.CompleteChatAsync([new UserChatMessage("What is the weather in Paris?")], options)).Value;
        var streamedArguments = new StringBuilder();
        string? streamedName = null;
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("weather again?")], options))
        {
            foreach (var call in update.ToolCallUpdates)
            {
                streamedName ??= call.FunctionName;
                if (call.FunctionArgumentsUpdate is { } args && !args.ToMemory().IsEmpty)
                {
                    streamedArguments.Append(args.ToString());
                }
            }
        }

        Assert.Equal("get_weather", completion.ToolCalls[0].FunctionName);
        Assert.Equal("""{"city":"Paris"}""", completion.ToolCalls[0].FunctionArguments.ToString());
        Assert.Equal("get_weather", streamedName);
        Assert.Equal("""{"city":"Paris"}""", streamedArguments.ToString());

        var traces = await fixture.Gateway.WaitForTenantTracesAsync(TestKeys.TenantOf(key), 2);
        foreach (var trace in traces)
        {
            var call = Assert.Single(trace.ToolCalls);
            Assert.Equal(("get_weather", """{"city":"Paris"}""", "response"), (call.Name, call.Arguments, call.Source));
            Assert.Equal("tool_calls", trace.FinishReason);
        }

        Assert.Equal(["call_xyz", "call_abc"], traces.Select(t => t.ToolCalls[0].Id));
    }

    [Fact]
    public async Task OpenAIEmbeddings_ThroughGateway_ReturnVectorAndUsage()
    {
        var key = TestKeys.NewKey();
        var client = new EmbeddingClient("text-embedding-3-small", new ApiKeyCredential(key), OpenAIOptions);

        var embedding = (await client.GenerateEmbeddingAsync("hello")).Value;

        Assert.Equal([0.1f, 0.2f, 0.3f], embedding.ToFloats().ToArray().Select(f => MathF.Round(f, 3)));
        var trace = Assert.Single(await fixture.Gateway.WaitForTenantTracesAsync(TestKeys.TenantOf(key), 1));
        Assert.Equal("embeddings", trace.Operation);
        Assert.Equal("input: hello", trace.Prompt);
        Assert.Equal((2, 0, 2), (trace.PromptTokens, trace.CompletionTokens, trace.TotalTokens));
    }

    [Fact]
    public async Task AzureOpenAIChat_JsonAndStreaming_PriceTheModelTheResponseNames()
    {
        var key = TestKeys.NewKey();
        var azure = new AzureOpenAIClient(fixture.Gateway.BaseAddress, new ApiKeyCredential(key),
            new AzureOpenAIClientOptions { RetryPolicy = new ClientRetryPolicy(0) });
        var chat = azure.GetChatClient("my-deployment");

        var completion = (await chat.CompleteChatAsync([new UserChatMessage("hi")])).Value;
        var streamed = new StringBuilder();
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("hi")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }
        }

        Assert.Equal("Hello from fake", completion.Content[0].Text);
        Assert.Equal("Hello world!", streamed.ToString());
        var request = fixture.Upstream.Find("api-key", key);
        Assert.StartsWith("/openai/deployments/my-deployment/chat/completions?api-version=", request.PathAndQuery, StringComparison.Ordinal);
        var traces = await fixture.Gateway.WaitForTenantTracesAsync(TestKeys.TenantOf(key), 2);
        Assert.All(traces, t =>
        {
            Assert.Equal("azure-openai", t.Provider);
            Assert.Equal("gpt-4o-2024-08-06", t.Model);
            Assert.False(t.UsageEstimated);
        });
        Assert.Equal([true, false], traces.Select(t => t.Streaming));
    }

    [Fact]
    public async Task AnthropicMessages_JsonAndStreaming_ThroughGateway()
    {
        var key = "sk-ant-" + Guid.NewGuid().ToString("N");
        using var client = new AnthropicClient(new Anthropic.Core.ClientOptions
        {
            ApiKey = key,
            BaseUrl = new Uri(fixture.Gateway.BaseAddress, "/anthropic").ToString(),
            MaxRetries = 0,
        });
        var parameters = new MessageCreateParams
        {
            Model = "claude-sonnet-4-5",
            MaxTokens = 256,
            System = "be brief",
            Messages = [new UserMessageParam("hi")],
        };

        var message = await client.Messages.Create(parameters);
        var text = new StringBuilder();
        long outputTokens = 0;
        await foreach (var item in client.Messages.CreateStreaming(parameters))
        {
            if (item.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickText(out var textDelta))
            {
                text.Append(textDelta.Text);
            }
            else if (item.TryPickDelta(out var messageDelta))
            {
                outputTokens = messageDelta.Usage.OutputTokens;
            }
        }

        Assert.Equal("Hello from fake claude", string.Concat(message.Content.Select(b => b.TryPickText(out var t) ? t.Text : "")));
        Assert.Equal("Hello!", text.ToString());
        Assert.Equal(5, outputTokens);
        Assert.Equal("/v1/messages", fixture.Upstream.Find("authorization", "Bearer " + key).PathAndQuery);

        var traces = await fixture.Gateway.WaitForTenantTracesAsync(TestKeys.TenantOf(key), 2);
        var (streamedTrace, jsonTrace) = (traces[0], traces[1]);
        Assert.Equal(("anthropic", "claude-sonnet-4-5", "messages"), (jsonTrace.Provider, jsonTrace.Model, jsonTrace.Operation));
        Assert.Equal("system: be brief\nuser: hi", jsonTrace.Prompt);
        Assert.Equal("Hello from fake claude", jsonTrace.Response);
        Assert.Equal((16, 6, 22, 4), (jsonTrace.PromptTokens, jsonTrace.CompletionTokens, jsonTrace.TotalTokens, jsonTrace.CachedPromptTokens));
        Assert.True(streamedTrace.Streaming);
        Assert.Equal("Hello!", streamedTrace.Response);
        Assert.Equal((12, 5, 17), (streamedTrace.PromptTokens, streamedTrace.CompletionTokens, streamedTrace.TotalTokens));
        Assert.Equal("end_turn", streamedTrace.FinishReason);
    }

    [Fact]
    public async Task AnthropicToolUse_Streamed_IsAssembledFromJsonDeltas()
    {
        var key = "sk-ant-" + Guid.NewGuid().ToString("N");
        using var http = fixture.Gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/anthropic/v1/messages")
        {
            Content = new StringContent("""{"model":"claude-sonnet-4-5","max_tokens":100,"stream":true,"tools":[{"name":"lookup","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"look it up"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-api-key", key);

        using var response = await http.SendAsync(request);
        await response.Content.ReadAsStringAsync();

        var trace = Assert.Single(await fixture.Gateway.WaitForTenantTracesAsync(TestKeys.TenantOf(key), 1));
        var call = Assert.Single(trace.ToolCalls);
        Assert.Equal(("toolu_2", "lookup", """{"q":"x"}"""), (call.Id, call.Name, call.Arguments));
    }
}
