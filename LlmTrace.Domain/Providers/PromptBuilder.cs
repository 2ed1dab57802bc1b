using System.Text;
using System.Text.Json;
using LlmTrace.Domain.Capture;

namespace LlmTrace.Domain.Providers;

/// <summary>
/// Renders a request's messages as readable <c>role: text</c> blocks and records, from the request's structure, which
/// span of that text came from which message and source (<see cref="PromptSegment"/>). The rendering is for people; the
/// analysers read the segments and never parse roles back out of the text.
/// </summary>
internal sealed class PromptBuilder
{
    /// <summary>Strings longer than this with no whitespace are binary payloads (images, audio), not prompt text.</summary>
    private const int MaxBlobLength = 64 * 1024;
    private const int MaxDepth = 256;

    /// <summary>Fields whose values are identifiers, media types or payloads, never instructions.</summary>
    private static readonly HashSet<string> SkippedKeys = new(StringComparer.Ordinal)
    {
        "type", "id", "data", "signature", "file_id", "call_id", "tool_use_id", "tool_call_id", "mime_type", "media_type",
        "mimeType", "fileUri", "file_uri", "file_data", "format", "cache_control", "encrypted_content", "status", "role",
    };

    private readonly StringBuilder _text = new();
    private readonly List<PromptSegment> _segments = [];
    private string _source = PromptSources.User;
    private int? _message;
    private bool _hasPiece;

    public bool IsEmpty => _text.Length == 0;

    /// <summary>Starts a block: <c>label: </c> on a new line. Pieces added next belong to <paramref name="message"/>.</summary>
    public void BeginMessage(string label, string source, int? message)
    {
        if (_text.Length > 0)
        {
            _text.Append('\n');
        }

        _text.Append(label).Append(": ");
        _source = source;
        _message = message;
        _hasPiece = false;
    }

    /// <summary>Adds a piece of text the client sent, as a segment of the current message (or of <paramref name="source"/>).</summary>
    public void Add(string? text, string? source = null)
    {
        if (string.IsNullOrEmpty(text))
        {
            return;
        }

        Separate();
        _segments.Add(new PromptSegment { Source = source ?? _source, Message = _message, Start = _text.Length, Length = text.Length });
        _text.Append(text);
    }

    /// <summary>Adds a marker the gateway writes (e.g. <c>[image_url]</c>); it is shown, but is not client text.</summary>
    public void AddMarker(string marker)
    {
        Separate();
        _text.Append(marker);
    }

    /// <summary>Content that is a string or an array of parts (OpenAI, Anthropic): text parts as text, any other part as a marker and its strings.</summary>
    public void AddContent(JsonElement content, string? source = null)
    {
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                Add(content.GetString(), source);
                break;
            case JsonValueKind.Array:
                foreach (var part in content.EnumerateArray())
                {
                    AddPart(part, source);
                }

                break;
            case JsonValueKind.Object:
                AddPart(content, source);
                break;
        }
    }

    /// <summary>A value that is a JSON string (added as is) or any other JSON (added as its raw text), e.g. tool-call arguments.</summary>
    public void AddJson(JsonElement value, string? source = null)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null:
                return;
            case JsonValueKind.String:
                Add(value.GetString(), source);
                return;
            default:
                Add(value.GetRawText(), source);
                return;
        }
    }

    /// <summary>The source of a message's role: anything other than the application's own roles is untrusted.</summary>
    public static string SourceOf(string role) => role switch
    {
        "system" => PromptSources.System,
        "developer" => PromptSources.Developer,
        "assistant" or "model" => PromptSources.Assistant,
        "tool" or "function" or "ipython" => PromptSources.Tool,
        _ => PromptSources.User,
    };

    /// <summary>A tool call from the history, rendered <c>[tool_call name] arguments</c>; the arguments are a segment of their own.</summary>
    public void AddCall(string? name, JsonElement arguments)
    {
        AddMarker($"[tool_call {name}]");
        AddJson(arguments, PromptSources.ToolCall);
    }

    /// <summary>Every string in an element of unknown shape, except identifiers, media types and binary payloads.</summary>
    public void AddStrings(JsonElement element, string? source = null) => AddStrings(element, source, 0);

    public void Complete(RequestInfo info)
    {
        info.Prompt = _text.Length == 0 ? null : _text.ToString();
        info.Segments = info.Prompt is null ? null : _segments;
    }

    private void AddPart(JsonElement part, string? source)
    {
        if (part.ValueKind == JsonValueKind.String)
        {
            Add(part.GetString(), source);
            return;
        }

        if (part.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        var type = part.GetString("type");
        if (part.GetString("text") is { } text)
        {
            Add(text, source);
            if (type is null or "text" or "input_text" or "output_text")
            {
                return;
            }
        }
        else if (type is null or "text" or "input_text" or "output_text")
        {
            AddStrings(part, source);
            return;
        }

        AddMarker($"[{type}]");
        foreach (var property in part.EnumerateObject())
        {
            if (property.Name != "text")
            {
                AddStrings(property.Value, source, 1, property.Name);
            }
        }
    }

    private void AddStrings(JsonElement element, string? source, int depth, string? key = null)
    {
        if (depth > MaxDepth || (key is not null && SkippedKeys.Contains(key)))
        {
            return;
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                var value = element.GetString();
                if (!string.IsNullOrWhiteSpace(value) && !IsPayload(value))
                {
                    Add(value, source);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    AddStrings(item, source, depth + 1);
                }

                break;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    AddStrings(property.Value, source, depth + 1, property.Name);
                }

                break;
        }
    }

    /// <summary>A data URL, or a long run with no whitespace (base64 of an image or audio).</summary>
    internal static bool IsPayload(string value)
        => value.StartsWith("data:", StringComparison.OrdinalIgnoreCase)
            || (value.Length > MaxBlobLength && value.AsSpan().IndexOfAny(" \n\t\r") < 0);

    private void Separate()
    {
        if (_hasPiece)
        {
            _text.Append('\n');
        }

        _hasPiece = true;
    }
}
