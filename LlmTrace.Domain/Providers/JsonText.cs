using System.Text;
using System.Text.Json;

namespace LlmTrace.Domain.Providers;

/// <summary>Small helpers for reading provider JSON without throwing on unexpected shapes.</summary>
internal static class JsonText
{
    public static string? GetString(this JsonElement element, string name)
        => element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    public static int? GetInt(this JsonElement element, string name)
        => element.ValueKind == JsonValueKind.Object
            && element.TryGetProperty(name, out var value)
            && value.ValueKind == JsonValueKind.Number
            && value.TryGetInt32(out var number)
            ? number
            : null;

    public static bool GetBool(this JsonElement element, string name)
        => element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;

    public static JsonElement Get(this JsonElement element, string name)
        => element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? value : default;

    public static IEnumerable<JsonElement> Items(this JsonElement element)
        => element.ValueKind == JsonValueKind.Array ? element.EnumerateArray() : [];

    /// <summary>Content that is either a string or an array of parts with a <c>text</c> field (OpenAI, Anthropic).</summary>
    public static void AppendContent(StringBuilder builder, JsonElement content)
    {
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                builder.Append(content.GetString());
                break;
            case JsonValueKind.Array:
                var first = true;
                foreach (var part in content.EnumerateArray())
                {
                    var text = part.ValueKind == JsonValueKind.String ? part.GetString() : part.GetString("text");
                    if (text is null)
                    {
                        var type = part.GetString("type");
                        text = type is null or "text" or "input_text" or "output_text" ? null : $"[{type}]";
                    }

                    if (text is not null)
                    {
                        if (!first)
                        {
                            builder.Append('\n');
                        }

                        builder.Append(text);
                        first = false;
                    }
                }

                break;
        }
    }

    /// <summary>The raw JSON text of an element, or the string value when it is a string.</summary>
    public static string? RawOrString(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Undefined or JsonValueKind.Null => null,
        JsonValueKind.String => element.GetString(),
        _ => element.GetRawText(),
    };
}
