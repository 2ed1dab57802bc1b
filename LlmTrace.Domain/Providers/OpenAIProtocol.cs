using System.Text;
using System.Text.Json;
using LlmTrace.Domain.Capture;

namespace LlmTrace.Domain.Providers;

/// <summary>OpenAI, Azure OpenAI and OpenAI-compatible servers: chat, completions, embeddings and responses.</summary>
internal sealed class OpenAIProtocol : ProviderProtocol
{
    public static OpenAIProtocol Instance { get; } = new();

    public override ResponseAccumulator CreateAccumulator() => new Accumulator();

    protected override string OperationFromPath(string path)
    {
        var trimmed = path.TrimEnd('/');
        if (trimmed.EndsWith("chat/completions", StringComparison.OrdinalIgnoreCase))
        {
            return "chat";
        }

        if (trimmed.EndsWith("completions", StringComparison.OrdinalIgnoreCase))
        {
            return "completions";
        }

        if (trimmed.EndsWith("embeddings", StringComparison.OrdinalIgnoreCase))
        {
            return "embeddings";
        }

        return trimmed.EndsWith("responses", StringComparison.OrdinalIgnoreCase) ? "responses" : "other";
    }

    protected override void ReadRequestFromPath(RequestInfo info, string path, string? query)
    {
        // Azure OpenAI: deployments/{deployment}/chat/completions; the deployment stands in for the model until the response names it.
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var index = Array.FindIndex(segments, s => s.Equals("deployments", StringComparison.OrdinalIgnoreCase));
        if (index >= 0 && index + 1 < segments.Length)
        {
            info.Model = Uri.UnescapeDataString(segments[index + 1]);
        }
    }

    protected override void ReadRequest(RequestInfo info, JsonElement root)
    {
        info.Model = root.GetString("model") ?? info.Model;
        info.Streaming = root.GetBool("stream");
        info.MaxOutputTokens = root.GetInt("max_completion_tokens") ?? root.GetInt("max_tokens") ?? root.GetInt("max_output_tokens");
        info.Choices = Math.Clamp(root.GetInt("n") ?? 1, 1, 128);
        info.ClientRequestedStreamUsage = root.Get("stream_options").GetBool("include_usage");
        info.SupportsStreamUsage = info.Operation is "chat" or "completions";
        var prompt = new PromptBuilder();
        switch (info.Operation)
        {
            case "chat":
                var index = 0;
                foreach (var message in root.Get("messages").Items())
                {
                    info.MessageCount++;
                    var role = message.GetString("role") ?? "user";
                    var name = message.GetString("name");
                    prompt.BeginMessage(name is null ? role : $"{role} ({name})", PromptBuilder.SourceOf(role), index);
                    prompt.AddContent(message.Get("content"));
                    // Refusals and reasoning the client sends back are the model's earlier words.
                    prompt.Add(message.GetString("refusal"));
                    foreach (var call in message.Get("tool_calls").Items())
                    {
                        var function = call.Get("function");
                        AddToolCall(info.ToolCalls, call.GetString("id"), function.GetString("name"), function.GetString("arguments"), "request");
                        prompt.AddCall(function.GetString("name"), function.Get("arguments"));
                    }

                    var legacyCall = message.Get("function_call");
                    if (legacyCall.ValueKind == JsonValueKind.Object)
                    {
                        AddToolCall(info.ToolCalls, null, legacyCall.GetString("name"), legacyCall.GetString("arguments"), "request");
                        prompt.AddCall(legacyCall.GetString("name"), legacyCall.Get("arguments"));
                    }

                    index++;
                }

                break;
            case "completions":
                AppendInputs(prompt, root.Get("prompt"), "prompt");
                prompt.Add(root.GetString("suffix"));
                break;
            case "embeddings":
                AppendInputs(prompt, root.Get("input"), "input");
                break;
            case "responses":
                if (root.GetString("instructions") is { } instructions)
                {
                    prompt.BeginMessage("system", PromptSources.System, null);
                    prompt.Add(instructions);
                }

                var input = root.Get("input");
                if (input.ValueKind == JsonValueKind.String)
                {
                    prompt.BeginMessage("user", PromptSources.User, 0);
                    prompt.Add(input.GetString());
                    info.MessageCount++;
                }

                var item = 0;
                foreach (var entry in input.Items())
                {
                    info.MessageCount++;
                    ReadResponsesItem(info, prompt, entry, item++);
                }

                break;
        }

        prompt.Complete(info);
    }

    /// <summary>One item of a Responses API <c>input</c> array: a message, a function call or its output, or another item.</summary>
    private static void ReadResponsesItem(RequestInfo info, PromptBuilder prompt, JsonElement item, int index)
    {
        switch (item.GetString("type"))
        {
            case "function_call" or "custom_tool_call":
                AddToolCall(
                    info.ToolCalls, item.GetString("call_id"), item.GetString("name"), item.GetString("arguments") ?? item.GetString("input"), "request");
                prompt.BeginMessage("assistant", PromptSources.Assistant, index);
                prompt.AddCall(item.GetString("name"), item.Get("arguments").ValueKind != JsonValueKind.Undefined ? item.Get("arguments") : item.Get("input"));
                return;
            case "function_call_output" or "custom_tool_call_output":
                prompt.BeginMessage("tool", PromptSources.Tool, index);
                prompt.AddContent(item.Get("output"));
                return;
            case null or "message":
                var role = item.GetString("role") ?? "user";
                prompt.BeginMessage(role, PromptBuilder.SourceOf(role), index);
                prompt.AddContent(item.Get("content"));
                return;
            case { } other:
                // Reasoning summaries, tool calls the platform ran (search, file search, computer use) and their results.
                var source = other.EndsWith("_output", StringComparison.Ordinal)
                    || other.EndsWith("_result", StringComparison.Ordinal)
                    || other.EndsWith("_call", StringComparison.Ordinal)
                    ? PromptSources.Tool
                    : PromptBuilder.SourceOf(item.GetString("role") ?? "assistant");
                prompt.BeginMessage(other, source, index);
                prompt.AddStrings(item);
                return;
        }
    }

    private static void AppendInputs(PromptBuilder prompt, JsonElement value, string role)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            prompt.BeginMessage(role, PromptSources.User, 0);
            prompt.Add(value.GetString());
            return;
        }

        var index = 0;
        foreach (var item in value.Items())
        {
            if (item.ValueKind == JsonValueKind.String)
            {
                prompt.BeginMessage(role, PromptSources.User, index);
                prompt.Add(item.GetString());
            }

            index++;
        }
    }

    private sealed class Accumulator : ResponseAccumulator
    {
        private readonly SortedDictionary<int, StreamedToolCall> _streamedCalls = [];

        public override void OnDocument(JsonElement root)
        {
            if (root.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            Info.Model = root.GetString("model") ?? Info.Model;
            ReadUsage(root.Get("usage"));

            // Responses API: streamed events carry a "type"; the final one carries the whole response.
            var type = root.GetString("type");
            if (type is not null && type.StartsWith("response.", StringComparison.Ordinal))
            {
                OnResponsesEvent(type, root);
                return;
            }

            if (root.GetString("object") is "response")
            {
                OnResponsesObject(root);
                return;
            }

            foreach (var choice in root.Get("choices").Items())
            {
                if ((choice.GetInt("index") ?? 0) != 0)
                {
                    continue;
                }

                Info.FinishReason = choice.GetString("finish_reason") ?? Info.FinishReason;
                if (choice.GetString("text") is { } completionText)
                {
                    Info.Text.Append(completionText);
                }

                var message = choice.Get("message");
                if (message.ValueKind == JsonValueKind.Object)
                {
                    JsonText.AppendContent(Info.Text, message.Get("content"));
                    foreach (var call in message.Get("tool_calls").Items())
                    {
                        var function = call.Get("function");
                        AddToolCall(Info.ToolCalls, call.GetString("id"), function.GetString("name"), function.GetString("arguments"), "response");
                    }
                }

                var delta = choice.Get("delta");
                if (delta.ValueKind == JsonValueKind.Object)
                {
                    if (delta.GetString("content") is { } content)
                    {
                        Info.Text.Append(content);
                    }

                    foreach (var call in delta.Get("tool_calls").Items())
                    {
                        var index = call.GetInt("index") ?? 0;
                        if (!_streamedCalls.TryGetValue(index, out var streamed))
                        {
                            _streamedCalls[index] = streamed = new StreamedToolCall();
                        }

                        streamed.Id ??= call.GetString("id");
                        var function = call.Get("function");
                        streamed.Name ??= function.GetString("name");
                        streamed.Arguments.Append(function.GetString("arguments"));
                    }
                }
            }

            if (root.Get("data").ValueKind == JsonValueKind.Array && root.GetString("object") is "list")
            {
                Info.Text.Append('[').Append(root.Get("data").GetArrayLength()).Append(" embeddings]");
            }
        }

        public override void Complete()
        {
            foreach (var call in _streamedCalls.Values)
            {
                AddToolCall(Info.ToolCalls, call.Id, call.Name, call.Arguments.ToString(), "response");
            }
        }

        private void OnResponsesEvent(string type, JsonElement root)
        {
            switch (type)
            {
                case "response.output_text.delta":
                    Info.Text.Append(root.GetString("delta"));
                    break;
                case "response.output_item.done":
                    var item = root.Get("item");
                    if (item.GetString("type") is "function_call")
                    {
                        AddToolCall(Info.ToolCalls, item.GetString("call_id"), item.GetString("name"), item.GetString("arguments"), "response");
                    }

                    break;
                case "response.completed" or "response.incomplete" or "response.failed":
                    var response = root.Get("response");
                    Info.Model = response.GetString("model") ?? Info.Model;
                    ReadUsage(response.Get("usage"));
                    Info.FinishReason = response.GetString("status") ?? Info.FinishReason;
                    break;
            }
        }

        private void OnResponsesObject(JsonElement root)
        {
            Info.FinishReason = root.GetString("status");
            foreach (var item in root.Get("output").Items())
            {
                switch (item.GetString("type"))
                {
                    case "message":
                        JsonText.AppendContent(Info.Text, item.Get("content"));
                        break;
                    case "function_call":
                        AddToolCall(Info.ToolCalls, item.GetString("call_id"), item.GetString("name"), item.GetString("arguments"), "response");
                        break;
                }
            }
        }

        private void ReadUsage(JsonElement usage)
        {
            if (usage.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            Info.PromptTokens = usage.GetInt("prompt_tokens") ?? usage.GetInt("input_tokens") ?? Info.PromptTokens;
            Info.CompletionTokens = usage.GetInt("completion_tokens") ?? usage.GetInt("output_tokens") ?? Info.CompletionTokens;
            Info.TotalTokens = usage.GetInt("total_tokens") ?? Info.TotalTokens;
            Info.CachedPromptTokens = usage.Get("prompt_tokens_details").GetInt("cached_tokens")
                ?? usage.Get("input_tokens_details").GetInt("cached_tokens")
                ?? Info.CachedPromptTokens;
            if (Info.CompletionTokens is null && Info.PromptTokens is not null && Info.TotalTokens is not null)
            {
                // Embeddings report prompt and total tokens only.
                Info.CompletionTokens = Info.TotalTokens - Info.PromptTokens;
            }
        }
    }

    private sealed class StreamedToolCall
    {
        public string? Id { get; set; }

        public string? Name { get; set; }

        public StringBuilder Arguments { get; } = new();
    }
}
