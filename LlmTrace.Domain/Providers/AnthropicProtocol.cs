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
        var prompt = new PromptBuilder();
        var system = root.Get("system");
        if (system.ValueKind is JsonValueKind.String or JsonValueKind.Array)
        {
            prompt.BeginMessage("system", PromptSources.System, null);
            prompt.AddContent(system);
        }

        var index = 0;
        foreach (var message in root.Get("messages").Items())
        {
            info.MessageCount++;
            var role = message.GetString("role") ?? "user";
            prompt.BeginMessage(role, PromptBuilder.SourceOf(role), index);
            var content = message.Get("content");
            if (content.ValueKind == JsonValueKind.String)
            {
                prompt.Add(content.GetString());
            }

            foreach (var block in content.Items())
            {
                ReadBlock(info, prompt, block);
            }

            index++;
        }

        if (root.GetString("prompt") is { } legacyPrompt)
        {
            prompt.BeginMessage("prompt", PromptSources.User, 0);
            prompt.Add(legacyPrompt);
        }

        prompt.Complete(info);
    }

    /// <summary>One content block of a message: text, a tool call or result, a document, thinking, or another block's strings.</summary>
    private static void ReadBlock(RequestInfo info, PromptBuilder prompt, JsonElement block)
    {
        switch (block.GetString("type"))
        {
            case "text":
                prompt.Add(block.GetString("text"));
                break;
            case "thinking":
                prompt.AddMarker("[thinking]");
                prompt.Add(block.GetString("thinking"));
                break;
            case "redacted_thinking":
                prompt.AddMarker("[redacted_thinking]");
                break;
            case "tool_use" or "server_tool_use" or "mcp_tool_use":
                AddToolCall(info.ToolCalls, block.GetString("id"), block.GetString("name"), JsonText.RawOrString(block.Get("input")), "request");
                prompt.AddCall(block.GetString("name"), block.Get("input"));
                break;
            case "tool_result":
                prompt.AddMarker("[tool_result]");
                prompt.AddContent(block.Get("content"), PromptSources.Tool);
                break;
            case "document":
                prompt.AddMarker("[document]");
                prompt.Add(block.GetString("title"), PromptSources.Document);
                prompt.Add(block.GetString("context"), PromptSources.Document);
                var source = block.Get("source");
                if (source.GetString("type") is "text")
                {
                    prompt.Add(source.GetString("data"), PromptSources.Document);
                }
                else
                {
                    prompt.AddContent(source.Get("content"), PromptSources.Document);
                }

                break;
            case { } other when other.EndsWith("_tool_result", StringComparison.Ordinal):
                prompt.AddMarker($"[{other}]");
                prompt.AddStrings(block.Get("content"), PromptSources.Tool);
                break;
            case { } other:
                prompt.AddMarker($"[{other}]");
                prompt.AddStrings(block);
                break;
        }
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
                                AddToolCall(
                                    Info.ToolCalls, block.GetString("id"), block.GetString("name"), JsonText.RawOrString(block.Get("input")), "response");
                                break;
                        }
                    }

                    break;
                case "message_start":
                    var message = root.Get("message");
                    Info.Model = message.GetString("model") ?? Info.Model;
                    ReadUsage(message.Get("usage"));
                    // Its output_tokens is a placeholder: the real count comes with message_delta.
                    Info.UsagePartial = true;
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
                    Info.UsagePartial = false;
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

            // Anthropic reports cache reads and writes apart from input_tokens; all three are prompt tokens, each at its own
            // price. Writes are for five minutes unless cache_creation says how many were for one hour.
            if (usage.GetInt("input_tokens") is { } input)
            {
                var cacheRead = usage.GetInt("cache_read_input_tokens") ?? 0;
                var cacheWrite = usage.GetInt("cache_creation_input_tokens") ?? 0;
                var creation = usage.Get("cache_creation");
                var oneHour = creation.GetInt("ephemeral_1h_input_tokens") ?? 0;
                if (creation.ValueKind == JsonValueKind.Object && usage.GetInt("cache_creation_input_tokens") is null)
                {
                    cacheWrite = (creation.GetInt("ephemeral_5m_input_tokens") ?? 0) + oneHour;
                }

                Info.PromptTokens = input + cacheRead + cacheWrite;
                Info.CachedPromptTokens = cacheRead;
                Info.CacheWriteTokens = cacheWrite;
                Info.CacheWrite1hTokens = Math.Min(oneHour, cacheWrite);
            }

            Info.CompletionTokens = usage.GetInt("output_tokens") ?? Info.CompletionTokens;
        }
    }
}
