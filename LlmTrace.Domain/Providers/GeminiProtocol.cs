using System.Text;
using System.Text.Json;
using LlmTrace.Domain.Capture;

namespace LlmTrace.Domain.Providers;

/// <summary>Gemini API: <c>models/{model}:generateContent</c>, <c>:streamGenerateContent</c> (SSE or JSON array) and embeddings.</summary>
internal sealed class GeminiProtocol : ProviderProtocol
{
    public static GeminiProtocol Instance { get; } = new();

    public override ResponseAccumulator CreateAccumulator() => new Accumulator();

    protected override string OperationFromPath(string path)
    {
        var colon = path.LastIndexOf(':');
        var method = colon >= 0 ? path[(colon + 1)..] : string.Empty;
        return method.ToLowerInvariant() switch
        {
            "generatecontent" or "streamgeneratecontent" => "generate_content",
            "embedcontent" or "batchembedcontents" => "embeddings",
            "counttokens" => "count_tokens",
            _ => "other",
        };
    }

    protected override void ReadRequestFromPath(RequestInfo info, string path, string? query)
    {
        // .../models/{model}:{method}
        var modelsAt = path.IndexOf("models/", StringComparison.OrdinalIgnoreCase);
        if (modelsAt >= 0)
        {
            var rest = path[(modelsAt + "models/".Length)..];
            var colon = rest.IndexOf(':');
            info.Model = Uri.UnescapeDataString(colon >= 0 ? rest[..colon] : rest);
        }

        info.Streaming = path.EndsWith(":streamGenerateContent", StringComparison.OrdinalIgnoreCase);
    }

    protected override void ReadRequest(RequestInfo info, JsonElement root)
    {
        info.MaxOutputTokens = root.Get("generationConfig").GetInt("maxOutputTokens");
        info.Choices = Math.Clamp(root.Get("generationConfig").GetInt("candidateCount") ?? 1, 1, 128);
        var prompt = new PromptBuilder();
        var system = root.Get("systemInstruction");
        if (system.ValueKind == JsonValueKind.Object)
        {
            prompt.BeginMessage("system", PromptSources.System, null);
            AddParts(prompt, system.Get("parts"), info.ToolCalls);
        }

        var index = 0;
        foreach (var content in root.Get("contents").Items())
        {
            info.MessageCount++;
            var role = content.GetString("role") ?? "user";
            prompt.BeginMessage(role, PromptBuilder.SourceOf(role), index++);
            AddParts(prompt, content.Get("parts"), info.ToolCalls);
        }

        // embedContent / batchEmbedContents
        var single = root.Get("content");
        if (single.ValueKind == JsonValueKind.Object)
        {
            prompt.BeginMessage("input", PromptSources.User, 0);
            AddParts(prompt, single.Get("parts"), info.ToolCalls);
        }

        index = 0;
        foreach (var request in root.Get("requests").Items())
        {
            prompt.BeginMessage("input", PromptSources.User, index++);
            AddParts(prompt, request.Get("content").Get("parts"), info.ToolCalls);
        }

        prompt.Complete(info);
    }

    private static void AddParts(PromptBuilder prompt, JsonElement parts, List<ToolCall> calls)
    {
        foreach (var part in parts.Items())
        {
            if (part.GetString("text") is { } value)
            {
                prompt.Add(value);
            }

            var call = part.Get("functionCall");
            if (call.ValueKind == JsonValueKind.Object)
            {
                AddToolCall(calls, call.GetString("id"), call.GetString("name"), JsonText.RawOrString(call.Get("args")), "request");
                prompt.AddCall(call.GetString("name"), call.Get("args"));
            }

            var response = part.Get("functionResponse");
            if (response.ValueKind == JsonValueKind.Object)
            {
                prompt.AddJson(response.Get("response"), PromptSources.Tool);
            }

            var result = part.Get("codeExecutionResult");
            if (result.ValueKind == JsonValueKind.Object)
            {
                prompt.Add(result.GetString("output"), PromptSources.Tool);
            }

            var code = part.Get("executableCode");
            if (code.ValueKind == JsonValueKind.Object)
            {
                prompt.Add(code.GetString("code"), PromptSources.ToolCall);
            }
        }
    }

    /// <summary>The text of a response's parts; function calls go to <paramref name="calls"/>.</summary>
    private static string PartsText(JsonElement parts, List<ToolCall> calls, string source)
    {
        var text = new StringBuilder();
        foreach (var part in parts.Items())
        {
            if (part.GetString("text") is { } value)
            {
                text.Append(value);
            }

            var call = part.Get("functionCall");
            if (call.ValueKind == JsonValueKind.Object)
            {
                AddToolCall(calls, call.GetString("id"), call.GetString("name"), JsonText.RawOrString(call.Get("args")), source);
            }
        }

        return text.ToString();
    }

    private sealed class Accumulator : ResponseAccumulator
    {
        public override void OnDocument(JsonElement root)
        {
            // streamGenerateContent without alt=sse answers one JSON array of chunks.
            if (root.ValueKind == JsonValueKind.Array)
            {
                foreach (var chunk in root.EnumerateArray())
                {
                    OnDocument(chunk);
                }

                return;
            }

            Info.Model = root.GetString("modelVersion") ?? Info.Model;
            foreach (var candidate in root.Get("candidates").Items())
            {
                if ((candidate.GetInt("index") ?? 0) != 0)
                {
                    continue;
                }

                Info.Text.Append(PartsText(candidate.Get("content").Get("parts"), Info.ToolCalls, "response"));
                Info.FinishReason = candidate.GetString("finishReason") ?? Info.FinishReason;
            }

            var embeddings = root.Get("embeddings");
            if (embeddings.ValueKind == JsonValueKind.Array)
            {
                Info.Text.Append('[').Append(embeddings.GetArrayLength()).Append(" embeddings]");
            }
            else if (root.Get("embedding").ValueKind == JsonValueKind.Object)
            {
                Info.Text.Append("[1 embeddings]");
            }

            var usage = root.Get("usageMetadata");
            if (usage.ValueKind == JsonValueKind.Object)
            {
                // Each streamed chunk repeats the running totals; the last one wins. Tool-use prompt tokens (the results of
                // built-in tools fed back to the model) are billed as input.
                if (usage.GetInt("promptTokenCount") is { } promptTokens)
                {
                    Info.PromptTokens = promptTokens + (usage.GetInt("toolUsePromptTokenCount") ?? 0);
                }

                var candidates = usage.GetInt("candidatesTokenCount");
                var thoughts = usage.GetInt("thoughtsTokenCount");
                if (candidates is not null || thoughts is not null)
                {
                    Info.CompletionTokens = (candidates ?? 0) + (thoughts ?? 0);
                }

                Info.TotalTokens = usage.GetInt("totalTokenCount") ?? Info.TotalTokens;
                Info.CachedPromptTokens = usage.GetInt("cachedContentTokenCount") ?? Info.CachedPromptTokens;
                // A running total until a candidate finishes: a stream cut before that has its output estimated.
                Info.UsagePartial = root.Get("candidates").ValueKind == JsonValueKind.Array && Info.FinishReason is null;
            }
        }

        public override void Complete()
        {
            if (Info.CompletionTokens is null && Info.PromptTokens is not null && Info.TotalTokens is not null)
            {
                Info.CompletionTokens = Info.TotalTokens - Info.PromptTokens;
            }
        }
    }
}
