using System.Text.Json;
using LlmTrace.Domain.Capture;

namespace LlmTrace.Domain.Providers;

/// <summary>Reads one provider's request and response bodies into <see cref="RequestInfo"/> and <see cref="ResponseInfo"/>.</summary>
internal abstract class ProviderProtocol
{
    private static readonly JsonReaderOptions ReaderOptions = new() { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow };

    public static ProviderProtocol For(ProviderKind kind) => kind switch
    {
        ProviderKind.Anthropic => AnthropicProtocol.Instance,
        ProviderKind.Gemini => GeminiProtocol.Instance,
        _ => OpenAIProtocol.Instance,
    };

    /// <summary>Reads a request body. <paramref name="path"/> is the path after the route prefix, without the query.</summary>
    public RequestInfo ReadRequest(ReadOnlySpan<byte> body, string path, string? query)
    {
        var info = new RequestInfo { Operation = OperationFromPath(path) };
        ReadRequestFromPath(info, path, query);
        if (body.IsEmpty)
        {
            return info;
        }

        try
        {
            var reader = new Utf8JsonReader(body, ReaderOptions);
            using var document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                info.ParseError = "request body is JSON but not an object";
                return info;
            }

            ReadRequest(info, document.RootElement);
        }
        catch (JsonException ex)
        {
            info.ParseError = $"request body is not valid JSON (byte {ex.BytePositionInLine}, line {ex.LineNumber})";
        }

        return info;
    }

    public abstract ResponseAccumulator CreateAccumulator();

    protected abstract string OperationFromPath(string path);

    protected virtual void ReadRequestFromPath(RequestInfo info, string path, string? query)
    {
    }

    protected abstract void ReadRequest(RequestInfo info, JsonElement root);

    protected static void AddToolCall(List<ToolCall> calls, string? id, string? name, string? arguments, string source)
    {
        if (!string.IsNullOrEmpty(name))
        {
            calls.Add(new ToolCall { Id = id, Name = name, Arguments = arguments, Source = source });
        }
    }
}

/// <summary>Folds the JSON documents of one response (one for JSON, one per event for SSE) into a <see cref="ResponseInfo"/>.</summary>
internal abstract class ResponseAccumulator
{
    public ResponseInfo Info { get; } = new();

    public abstract void OnDocument(JsonElement root);

    /// <summary>Called once after the last document; assembles partial state such as streamed tool calls.</summary>
    public virtual void Complete()
    {
    }

    /// <summary>Reads an <c>{"error": {...}}</c> body into a short message.</summary>
    public static string? ReadErrorMessage(JsonElement root)
    {
        var error = root.Get("error");
        return error.ValueKind switch
        {
            JsonValueKind.Object => error.GetString("message") ?? error.GetString("type"),
            JsonValueKind.String => error.GetString(),
            _ => null,
        };
    }
}
