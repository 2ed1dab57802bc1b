using System.Text.Json;

namespace LlmTrace.Domain.Providers;

/// <summary>
/// The error body each provider's SDK understands. Every shape carries <c>error.message</c> and <c>error.type</c>;
/// Anthropic adds <c>"type":"error"</c> around it, Gemini answers with its numeric <c>code</c>, <c>status</c> and the
/// gateway's code as <c>reason</c>, the others with <c>error.code</c>.
/// </summary>
internal static class ProviderErrorBody
{
    public static void Write(Utf8JsonWriter writer, ProviderKind provider, int statusCode, string type, string code, string message, string? param)
    {
        writer.WriteStartObject();
        if (provider == ProviderKind.Anthropic)
        {
            writer.WriteString("type", "error");
        }

        writer.WriteStartObject("error");
        writer.WriteString("message", message);
        writer.WriteString("type", type);
        if (provider == ProviderKind.Gemini)
        {
            writer.WriteNumber("code", statusCode);
            writer.WriteString("status", GoogleStatus(statusCode));
            writer.WriteString("reason", code);
        }
        else
        {
            writer.WriteString("code", code);
        }

        if (param is not null)
        {
            writer.WriteString("param", param);
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static string GoogleStatus(int statusCode) => statusCode switch
    {
        400 or 413 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        503 or 502 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    };
}
