using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using LlmTrace.Domain.Providers;
using LlmTrace.Domain.Proxy;
using Microsoft.AspNetCore.Http;

namespace LlmTrace.Domain.Management;

/// <summary>Field-level validation failures: field path → messages.</summary>
internal sealed class ValidationErrors : Dictionary<string, List<string>>
{
    public ValidationErrors()
        : base(StringComparer.Ordinal)
    {
    }

    public void Add(string field, string message)
    {
        if (!TryGetValue(field, out var messages))
        {
            messages = [];
            this[field] = messages;
        }

        messages.Add(message);
    }
}

/// <summary>Reading and writing management JSON, and its error answers (the gateway's error shape, provider-neutral).</summary>
internal static class ManagementHttp
{
    public const int MaxBodyBytes = 256 * 1024;

    public static async Task WriteJsonAsync<T>(HttpContext context, int status, T value, JsonTypeInfo<T> typeInfo)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        await JsonSerializer.SerializeAsync(context.Response.Body, value, typeInfo, context.RequestAborted).ConfigureAwait(false);
    }

    public static Task NotFoundAsync(HttpContext context, string code, string message)
        => GatewayErrors.WriteAsync(context, ProviderKind.OpenAI, StatusCodes.Status404NotFound, "not_found_error", code, message);

    public static Task InvalidAsync(HttpContext context, string? param, string message)
        => GatewayErrors.WriteAsync(
            context, ProviderKind.OpenAI, StatusCodes.Status400BadRequest, "invalid_request_error", "invalid_parameter", message, param);

    public static Task ConflictAsync(HttpContext context, string code, string message)
        => GatewayErrors.WriteAsync(context, ProviderKind.OpenAI, StatusCodes.Status409Conflict, "conflict_error", code, message);

    /// <summary>400 with <c>error.fields</c>: each invalid field and what is wrong with it.</summary>
    public static async Task ValidationFailedAsync(HttpContext context, ValidationErrors errors)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status400BadRequest;
        response.ContentType = "application/json";
        response.Headers.CacheControl = "no-store";
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("error");
            writer.WriteString("message", "The request has invalid fields: " + string.Join(", ", errors.Keys) + ".");
            writer.WriteString("type", "invalid_request_error");
            writer.WriteString("code", "validation_failed");
            writer.WriteString("param", errors.Keys.First());
            writer.WriteStartObject("fields");
            foreach (var (field, messages) in errors)
            {
                writer.WriteStartArray(field);
                foreach (var message in messages)
                {
                    writer.WriteStringValue(message);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        response.ContentLength = buffer.WrittenCount;
        await response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The JSON body as <typeparamref name="T"/>; on failure the 400 naming the field has been written and null returned.</summary>
    public static async Task<T?> ReadBodyAsync<T>(HttpContext context, JsonTypeInfo<T> typeInfo)
        where T : class
    {
        if (context.Request.ContentLength > MaxBodyBytes)
        {
            await GatewayErrors.WriteAsync(context, ProviderKind.OpenAI, StatusCodes.Status413PayloadTooLarge, "invalid_request_error", "request_too_large",
                $"Management request bodies are limited to {MaxBodyBytes} bytes.").ConfigureAwait(false);
            return null;
        }

        if (!IsJsonMediaType(context.Request.ContentType))
        {
            // Also what stops a cross-site form or text/plain POST (which a browser sends without a preflight) from reaching
            // the API: only application/json or a +json type passes, whatever its parameters say.
            await GatewayErrors.WriteAsync(context, ProviderKind.OpenAI, StatusCodes.Status415UnsupportedMediaType, "invalid_request_error", "unsupported_media_type",
                "Management request bodies must be JSON (Content-Type: application/json).").ConfigureAwait(false);
            return null;
        }

        try
        {
            using var limited = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted).ConfigureAwait(false)) > 0)
            {
                limited.Write(chunk, 0, read);
                if (limited.Length > MaxBodyBytes)
                {
                    break; // Stop reading: the answer is 413 whatever follows.
                }
            }

            if (limited.Length == 0)
            {
                await InvalidAsync(context, null, "A JSON body is required.").ConfigureAwait(false);
                return null;
            }

            if (limited.Length > MaxBodyBytes)
            {
                await GatewayErrors.WriteAsync(context, ProviderKind.OpenAI, StatusCodes.Status413PayloadTooLarge, "invalid_request_error", "request_too_large",
                    $"Management request bodies are limited to {MaxBodyBytes} bytes.").ConfigureAwait(false);
                return null;
            }

            var value = JsonSerializer.Deserialize(limited.GetBuffer().AsSpan(0, (int)limited.Length), typeInfo);
            if (value is null)
            {
                await InvalidAsync(context, null, "The body must be a JSON object.").ConfigureAwait(false);
            }

            return value;
        }
        catch (JsonException ex)
        {
            var field = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "body" : ex.Path.TrimStart('$', '.');
            var errors = new ValidationErrors();
            errors.Add(field, ex.Message.Contains("could not be mapped", StringComparison.Ordinal)
                ? "Unknown field."
                : "Not a valid value for this field (" + FirstSentence(ex.Message) + ").");
            await ValidationFailedAsync(context, errors).ConfigureAwait(false);
            return null;
        }
    }

    /// <summary><c>application/json</c> or <c>application/*+json</c>, by the media type itself (never by a parameter).</summary>
    public static bool IsJsonMediaType(string? contentType)
    {
        if (!Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media))
        {
            return false;
        }

        return media.Type.Equals("application", StringComparison.OrdinalIgnoreCase)
            && (media.SubType.Equals("json", StringComparison.OrdinalIgnoreCase) || media.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase));
    }

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end > 0 ? message[..end] : message.TrimEnd('.');
    }
}
