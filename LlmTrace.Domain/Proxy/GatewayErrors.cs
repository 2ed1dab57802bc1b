using System.Text.Json;
using LlmTrace.Domain.Providers;
using Microsoft.AspNetCore.Http;

namespace LlmTrace.Domain.Proxy;

/// <summary>
/// Errors the gateway itself produces, in the shape of the provider the client speaks (<see cref="ProviderErrorBody"/>),
/// so its SDK raises a normal API error.
/// </summary>
internal static class GatewayErrors
{
    public static async Task WriteAsync(
        HttpContext context, ProviderKind provider, int statusCode, string type, string code, string message, string? param = null)
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
            ProviderErrorBody.Write(writer, provider, statusCode, type, code, message, param);
        }

        response.ContentLength = buffer.WrittenCount;
        await response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }
}
