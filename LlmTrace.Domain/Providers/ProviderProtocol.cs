using System.Text.Json;
using LlmTrace.Domain.Capture;

namespace LlmTrace.Domain.Providers;

/// <summary>Reads one provider's request and response bodies into <see cref="RequestInfo"/> and <see cref="ResponseInfo"/>.</summary>
internal abstract class ProviderProtocol
{
    /// <summary>A deliberate bound: deep enough for any real tool schema, shallow enough that a body cannot exhaust the stack.</summary>
    internal const int MaxDepth = 256;

    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = MaxDepth,
    };

    public static ProviderProtocol For(ProviderKind kind) => kind switch
    {
        ProviderKind.Anthropic => AnthropicProtocol.Instance,
        ProviderKind.Gemini => GeminiProtocol.Instance,
        _ => OpenAIProtocol.Instance,
    };

    /// <summary>
    /// Reads a request body. <paramref name="path"/> is the path after the route prefix, without the query. A body that
    /// cannot be read as the provider's JSON (malformed, nested deeper than <see cref="MaxDepth"/>, an unexpected shape)
    /// still has every string in it collected as <c>unknown</c> prompt segments, so nothing escapes analysis; invalid
    /// UTF-8 is read as U+FFFD.
    /// </summary>
    public RequestInfo ReadRequest(ReadOnlySpan<byte> body, string path, string? query)
    {
        var info = new RequestInfo { Operation = OperationFromPath(path) };
        ReadRequestFromPath(info, path, query);
        if (body.IsEmpty)
        {
            return info;
        }

        byte[]? sanitized = null;
        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            sanitized = System.Text.Encoding.UTF8.GetBytes(System.Text.Encoding.UTF8.GetString(body));
            body = sanitized;
            info.ParseError = "request body is not valid UTF-8 (read with U+FFFD in place of the invalid bytes)";
        }

        try
        {
            var reader = new Utf8JsonReader(body, ReaderOptions);
            using var document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                info.ParseError = "request body is JSON but not an object";
                ReadTolerantly(info, body);
                return info;
            }

            ReadRequest(info, document.RootElement);
        }
        catch (JsonException ex)
        {
            info.ParseError = ex.Message.Contains("depth", StringComparison.OrdinalIgnoreCase)
                ? $"request body is nested deeper than {MaxDepth} levels"
                : $"request body is not valid JSON (byte {ex.BytePositionInLine}, line {ex.LineNumber})";
            ReadTolerantly(info, body);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException or OverflowException)
        {
            info.ParseError = "request body does not have the provider's shape";
            ReadTolerantly(info, body);
        }

        return info;
    }

    /// <summary>Every string value in the body, any depth, as <c>unknown</c> segments (keys and binary payloads left out).</summary>
    internal static void ReadTolerantly(RequestInfo info, ReadOnlySpan<byte> body)
    {
        var prompt = new PromptBuilder();
        foreach (var value in TolerantJson.StringValues(body))
        {
            if (prompt.IsEmpty)
            {
                prompt.BeginMessage(PromptSources.Unknown, PromptSources.Unknown, null);
            }

            prompt.Add(value);
        }

        prompt.Complete(info);
        info.Coverage = RequestCoverage.Tolerant;
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
