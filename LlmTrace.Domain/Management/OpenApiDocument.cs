using Microsoft.AspNetCore.Http;

namespace LlmTrace.Domain.Management;

/// <summary>The management API's OpenAPI 3.1 document, shipped inside the assembly and served at <c>/api/openapi.json</c>.</summary>
internal static class OpenApiDocument
{
    private static readonly Lazy<byte[]> Bytes = new(() =>
    {
        using var stream = typeof(OpenApiDocument).Assembly.GetManifestResourceStream("LlmTrace.Domain.Management.openapi.json")
            ?? throw new InvalidOperationException("The OpenAPI document is missing from the assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    public static ReadOnlyMemory<byte> Content => Bytes.Value;

    public static async Task WriteAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = Bytes.Value.Length;
        await context.Response.Body.WriteAsync(Bytes.Value, context.RequestAborted).ConfigureAwait(false);
    }
}
