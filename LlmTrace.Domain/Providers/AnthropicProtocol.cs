using System.Text;
using System.Text.Json;
using LlmTrace.Domain.Capture;

namespace LlmTrace.Domain.Providers;

/// <summary>Anthropic Messages API (<c>/v1/messages</c>), JSON and streamed.</summary>
internal sealed class AnthropicProtocol : ProviderProtocol
{
    public static AnthropicProtocol Instance { get; } = new();

    public override ResponseAccumulator CreateAccumulator() => new Accumulator();

    protected override string OperationFromPath(string path)
    {
        var trimmed = path.TrimEnd('/');
        if (trimmed.EndsWith("messages/count_tokens", StringComparison.OrdinalIgnoreCase))
        {
            return "count_tokens";
        }

        if (trimmed.EndsWith("messages", StringComparison.OrdinalIgnoreCase))
        {
            return "messages";
        }

        return trimmed.EndsWith("complete", StringComparison.OrdinalIgnoreCase) ? "completions" : "other";
    }

    protected override void ReadRequest(RequestInfo info, JsonElement root)
    {
        info.Model = root.GetString("model");
        info.Streaming = root.GetBool("stream");
        info.MaxOutputTokens = root.GetInt("max_tokens") ?? root.GetInt("max_tokens_to_sample");
        var prompt = new StringBuilder();
        var system = root.Get("system");
        if (system.ValueKind is JsonValueKind.String or JsonValueKind.Array)
        {
            var text = new StringBuilder();
            JsonText.AppendContent(text, system);
            JsonText.AppendMessage(prompt, "system", text.ToString());
        }

        foreach (var message in root.Get("messages").Items())
        {
            info.MessageCount++;
            var content = message.Get("content");
            var text = new StringBuilder();
            if (content.ValueKind == JsonValueKind.String)
            {
                text.Append(content.GetString());
            }

            foreach (var block in content.Items())
            {
                switch (block.GetString("type"))
                {
                    case "text":
                        AppendLine(text, block.GetString("text"));
                        break;
                    case "tool_use":
                        AddToolCall(info.ToolCalls, block.GetString("id"), block.GetString("name"), JsonText.RawOrString(block.Get("input")), "request");
                        break;
                    case "tool_result":
                        var result = new StringBuilder();
                        JsonText.AppendContent(result, block.Get("content"));
                        AppendLine(text, result.ToString());
                        break;
                    case { } other:
                        AppendLine(text, $"[{other}]");
                        break;
                }
            }

            JsonText.AppendMessage(prompt, message.GetString("role") ?? "user", text.ToString());
        }

        if (root.GetString("prompt") is { } legacyPrompt)
        {
            JsonText.AppendMessage(prompt, "prompt", legacyPrompt);
        }

        info.Prompt = prompt.Length == 0 ? null : prompt.ToString();
    }

    private static void AppendLine(StringBuilder builder, string? text)
    {
        if (builder.Length > 0)
        {
            builder.Append('\n');
        }

        builder.Append(text);
    }

    private sealed class Accumulator : ResponseAccumulator
    {
        private readonly SortedDictionary<int, (string? Id, string? Name, StringBuilder Json)> _toolBlocks = [];

        public override void OnDocument(JsonElement root)
        {
            switch (root.GetString("type"))
            {
                case "message":
                    Info.Model = root.GetString("model") ?? Info.Model;
                    Info.FinishReason = root.GetString("stop_reason") ?? Info.FinishReason;
                    ReadUsage(root.Get("usage"));
                    foreach (var block in root.Get("content").Items())
                    {
                        switch (block.GetString("type"))
                        {
                            case "text":
                                Info.Text.Append(block.GetString("text"));
                                break;
                            case "tool_use":
                                AddToolCall(Info.ToolCalls, block.GetString("id"), block.GetString("name"), JsonText.RawOrString(block.Get("input")), "response");
                                break;
                        }
                    }

                    break;
                case "message_start":
                    var message = root.Get("message");
                    Info.Model = message.GetString("model") ?? Info.Model;
                    ReadUsage(message.Get("usage"));
                    break;
                case "content_block_start":
                    var start = root.Get("content_block");
                    if (start.GetString("type") is "tool_use")
                    {
                        _toolBlocks[root.GetInt("index") ?? 0] = (start.GetString("id"), start.GetString("name"), new StringBuilder());
                    }
                    else if (start.GetString("text") is { Length: > 0 } initial)
                    {
                        Info.Text.Append(initial);
                    }

                    break;
                case "content_block_delta":
                    var delta = root.Get("delta");
                    switch (delta.GetString("type"))
                    {
                        case "text_delta":
                            Info.Text.Append(delta.GetString("text"));
                            break;
                        case "input_json_delta" when _toolBlocks.TryGetValue(root.GetInt("index") ?? 0, out var block):
                            block.Json.Append(delta.GetString("partial_json"));
                            break;
                    }

                    break;
                case "message_delta":
                    Info.FinishReason = root.Get("delta").GetString("stop_reason") ?? Info.FinishReason;
                    ReadUsage(root.Get("usage"));
                    break;
                case "completion":
                    Info.Text.Append(root.GetString("completion"));
                    Info.Model = root.GetString("model") ?? Info.Model;
                    Info.FinishReason = root.GetString("stop_reason") ?? Info.FinishReason;
                    break;
            }
        }

        public override void Complete()
        {
            foreach (var (id, name, json) in _toolBlocks.Values)
            {
                AddToolCall(Info.ToolCalls, id, name, json.Length == 0 ? "{}" : json.ToString(), "response");
            }

            if (Info.PromptTokens is not null || Info.CompletionTokens is not null)
            {
                Info.TotalTokens = (Info.PromptTokens ?? 0) + (Info.CompletionTokens ?? 0);
            }
        }

        private void ReadUsage(JsonElement usage)
        {
            if (usage.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            // Anthropic reports cache reads and writes apart from input_tokens; all three are prompt tokens.
            if (usage.GetInt("input_tokens") is { } input)
            {
                var cacheRead = usage.GetInt("cache_read_input_tokens") ?? 0;
                var cacheWrite = usage.GetInt("cache_creation_input_tokens") ?? 0;
                Info.PromptTokens = input + cacheRead + cacheWrite;
                Info.CachedPromptTokens = cacheRead;
            }

            Info.CompletionTokens = usage.GetInt("output_tokens") ?? Info.CompletionTokens;
        }
    }
}
