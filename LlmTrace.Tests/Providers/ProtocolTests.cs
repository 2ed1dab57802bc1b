using System.Text;
using System.Text.Json;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Providers;

namespace LlmTrace.Tests.Providers;

/// <summary>Request and response reading for each provider, table-driven, no I/O.</summary>
public sealed class ProtocolTests
{
    [Theory]
    [InlineData(ProviderKind.OpenAI, "chat/completions", """{"model":"gpt-4o","messages":[{"role":"system","content":"S"},{"role":"user","content":[{"type":"text","text":"A"},{"type":"image_url","image_url":{"url":"x"}}]}]}""", "gpt-4o", "chat", "system: S\nuser: A\n[image_url]\nx")]
    [InlineData(ProviderKind.OpenAI, "completions", """{"model":"davinci-002","prompt":["p1","p2"]}""", "davinci-002", "completions", "prompt: p1\nprompt: p2")]
    [InlineData(ProviderKind.OpenAI, "embeddings", """{"model":"text-embedding-3-small","input":"e"}""", "text-embedding-3-small", "embeddings", "input: e")]
    [InlineData(ProviderKind.OpenAI, "responses", """{"model":"gpt-5","instructions":"I","input":"Q"}""", "gpt-5", "responses", "system: I\nuser: Q")]
    [InlineData(ProviderKind.AzureOpenAI, "deployments/my-gpt/chat/completions", """{"messages":[{"role":"user","content":"x"}]}""", "my-gpt", "chat", "user: x")]
    [InlineData(ProviderKind.Anthropic, "v1/messages", """{"model":"claude-opus-4","system":[{"type":"text","text":"S"}],"messages":[{"role":"user","content":[{"type":"text","text":"T"},{"type":"tool_result","tool_use_id":"t","content":"R"}]}]}""", "claude-opus-4", "messages", "system: S\nuser: T\n[tool_result]\nR")]
    [InlineData(ProviderKind.Gemini, "v1beta/models/gemini-1.5-pro:generateContent", """{"contents":[{"role":"user","parts":[{"text":"G"}]}]}""", "gemini-1.5-pro", "generate_content", "user: G")]
    [InlineData(ProviderKind.Gemini, "v1beta/models/text-embedding-004:embedContent", """{"content":{"parts":[{"text":"E"}]}}""", "text-embedding-004", "embeddings", "input: E")]
    public void ReadRequest_ProviderShapes_ExtractModelOperationAndPrompt(ProviderKind kind, string path, string body, string model, string operation, string prompt)
    {
        var info = ProviderProtocol.For(kind).ReadRequest(Encoding.UTF8.GetBytes(body), path, null);

        Assert.Equal((model, operation, prompt), (info.Model, info.Operation, info.Prompt));
        Assert.Null(info.ParseError);
    }

    [Fact]
    public void ReadRequest_ToolHistory_IsCapturedAsRequestToolCalls()
    {
        const string Body = """{"model":"gpt-4o","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"rm","arguments":"{\"path\":\"/\"}"}}]},{"role":"tool","tool_call_id":"c1","content":"done"}]}""";

        var info = ProviderProtocol.For(ProviderKind.OpenAI).ReadRequest(Encoding.UTF8.GetBytes(Body), "chat/completions", null);

        var call = Assert.Single(info.ToolCalls);
        Assert.Equal(("c1", "rm", """{"path":"/"}""", "request"), (call.Id, call.Name, call.Arguments, call.Source));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2,3]")]
    public void ReadRequest_Unparseable_RecordsParseError(string body)
        => Assert.NotNull(ProviderProtocol.For(ProviderKind.OpenAI).ReadRequest(Encoding.UTF8.GetBytes(body), "chat/completions", null).ParseError);

    [Fact]
    public void Accumulate_ResponsesApiStream_AssemblesTextToolCallAndUsage()
    {
        string[] events =
        [
            """{"type":"response.created","response":{"model":"gpt-5"}}""",
            """{"type":"response.output_text.delta","delta":"Hel"}""",
            """{"type":"response.output_text.delta","delta":"lo"}""",
            """{"type":"response.output_item.done","item":{"type":"function_call","call_id":"fc1","name":"search","arguments":"{}"}}""",
            """{"type":"response.completed","response":{"model":"gpt-5-2025-08-07","status":"completed","usage":{"input_tokens":9,"output_tokens":3,"total_tokens":12,"input_tokens_details":{"cached_tokens":2}}}}""",
        ];

        var info = Accumulate(ProviderKind.OpenAI, events);

        Assert.Equal(("Hello", "gpt-5-2025-08-07", 9, 3, 12, 2), (info.Text.ToString(), info.Model, info.PromptTokens, info.CompletionTokens, info.TotalTokens, info.CachedPromptTokens));
        Assert.Equal("search", Assert.Single(info.ToolCalls).Name);
    }

    [Fact]
    public void Accumulate_OpenAIStreamedToolCalls_JoinsArgumentFragmentsPerIndex()
    {
        string[] events =
        [
            """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":"{\"x\":"}},{"index":1,"id":"b","function":{"name":"g","arguments":""}}]}}]}""",
            """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1}"}},{"index":1,"function":{"arguments":"{}"}}]}}]}""",
        ];

        var info = Accumulate(ProviderKind.OpenAI, events);

        Assert.Equal([("a", "f", "{\"x\":1}"), ("b", "g", "{}")], info.ToolCalls.Select(c => (c.Id, c.Name, c.Arguments)));
    }

    [Fact]
    public void Accumulate_GeminiChunks_LastUsageWinsAndThoughtsCountAsOutput()
    {
        string[] events =
        [
            """{"candidates":[{"content":{"parts":[{"text":"a"}]},"index":0}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":1,"totalTokenCount":6}}""",
            """{"candidates":[{"content":{"parts":[{"text":"b"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":2,"thoughtsTokenCount":10,"totalTokenCount":17}}""",
        ];

        var info = Accumulate(ProviderKind.Gemini, events);

        Assert.Equal(("ab", 5, 12, 17), (info.Text.ToString(), info.PromptTokens, info.CompletionTokens, info.TotalTokens));
    }

    [Theory]
    [InlineData("gpt-4o-mini", "o200k_base")]
    [InlineData("gpt-4.1", "o200k_base")]
    [InlineData("gpt-5", "o200k_base")]
    [InlineData("o3-mini", "o200k_base")]
    [InlineData("gpt-4-turbo", "cl100k_base")]
    [InlineData("gpt-35-turbo", "cl100k_base")]
    [InlineData("text-embedding-3-small", "cl100k_base")]
    [InlineData("claude-sonnet-4-5", "o200k_base")]
    [InlineData(null, "o200k_base")]
    public void TokenEstimator_Model_ChoosesItsEncoding(string? model, string encoding)
        => Assert.Equal(encoding, TokenEstimator.EncodingFor(model));

    private static ResponseInfo Accumulate(ProviderKind kind, string[] events)
    {
        var accumulator = ProviderProtocol.For(kind).CreateAccumulator();
        foreach (var item in events)
        {
            using var document = JsonDocument.Parse(item);
            accumulator.OnDocument(document.RootElement);
        }

        accumulator.Complete();
        return accumulator.Info;
    }
}
