using System.Text.Json;
using LlmTrace.Domain.Providers;
using Microsoft.AspNetCore.Http;

namespace LlmTrace.Domain.Proxy;

/// <summary>
/// Errors the gateway itself produces, in the shape of the provider the client speaks, so its SDK raises a normal API error.
/// Every shape carries <c>error.message</c>, <c>error.type</c> and <c>error.code</c>.
/// </summary>
public static class GatewayErrors
{
    public static async Task WriteAsync(HttpContext context, ProviderKind provider, int statusCode, string type, string code, string message, string? param = null)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            return;
        }

        response.StatusCode = statusCode;
        response.ContentType = "application/json";
        response.Headers.CacheControl = "no-store";
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
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

        response.ContentLength = buffer.WrittenCount;
        await response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
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
