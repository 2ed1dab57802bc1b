using System.Collections.Frozen;
using System.IO.Compression;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace LlmTrace.Domain.Dashboard;

/// <summary>
/// The web dashboard at <c>/ui/</c>, served the same way by both hosts from files embedded in this assembly: nothing is
/// fetched from another origin. Every asset is compressed (Brotli and gzip) and hashed once at start-up; answers carry a
/// strict Content-Security-Policy (scripts and styles from this origin only, no inline code, no framing) and no cookies.
/// The pages read everything through the management API, so what a key may see is decided where it always is.
/// </summary>
public sealed class DashboardAssets
{
    /// <summary>Where the dashboard is served.</summary>
    public const string BasePath = "/ui/";

    /// <summary>The policy every dashboard answer carries.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private const string ResourcePrefix = "ui/";

    private static readonly FrozenDictionary<string, string> ContentTypes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
        [".png"] = "image/png",
        [".json"] = "application/json",
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    private readonly FrozenDictionary<string, Asset> _assets;

    public DashboardAssets()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var bytes = buffer.ToArray();
            var path = name[ResourcePrefix.Length..];
            assets[path] = new Asset(
                bytes,
                Compress(bytes, s => new BrotliStream(s, CompressionLevel.SmallestSize)),
                Compress(bytes, s => new GZipStream(s, CompressionLevel.SmallestSize)),
                ContentTypes.GetValueOrDefault(Path.GetExtension(path), "application/octet-stream"),
                "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes).AsSpan(0, 12)) + "\"");
        }

        _assets = assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>The embedded files by path under <c>/ui/</c>: for tests and the size budget.</summary>
    public IEnumerable<(string Path, int Bytes, int Brotli, int Gzip)> Files
        => _assets.Select(a => (a.Key, a.Value.Bytes.Length, a.Value.Brotli.Length, a.Value.Gzip.Length));

    /// <summary>Serves <c>/ui/{path}</c>: GET and HEAD, conditional on the ETag, compressed when the client accepts it.</summary>
    public Task HandleAsync(HttpContext context, string? path)
    {
        var request = context.Request;
        var response = context.Response;
        var headers = response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers["Cross-Origin-Resource-Policy"] = "same-origin";
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()";
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            headers.Allow = "GET, HEAD";
            return Task.CompletedTask;
        }

        if (!request.Path.Value!.StartsWith(BasePath, StringComparison.Ordinal))
        {
            // "/ui" without its slash: the pages' relative links need it.
            response.StatusCode = StatusCodes.Status308PermanentRedirect;
            headers.Location = BasePath;
            return Task.CompletedTask;
        }

        if (!_assets.TryGetValue(string.IsNullOrEmpty(path) ? "index.html" : path, out var asset))
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            response.ContentType = "text/plain; charset=utf-8";
            return response.WriteAsync("Not found.", context.RequestAborted);
        }

        headers.ETag = asset.ETag;
        headers.CacheControl = "no-cache";
        headers.Vary = "Accept-Encoding";
        if (request.Headers.IfNoneMatch.ToString() is { Length: > 0 } tags
            && tags.Split(',').Any(t => t.Trim() == asset.ETag || t.Trim() == "*"))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }

        var (body, encoding) = Accepts(request, "br") ? (asset.Brotli, "br") : Accepts(request, "gzip") ? (asset.Gzip, "gzip") : (asset.Bytes, null);
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = asset.ContentType;
        response.ContentLength = body.Length;
        if (encoding is not null)
        {
            headers.ContentEncoding = encoding;
        }

        return HttpMethods.IsHead(request.Method) ? Task.CompletedTask : response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    private static bool Accepts(HttpRequest request, string encoding)
    {
        foreach (var value in request.Headers.AcceptEncoding)
        {
            if (StringWithQualityHeaderValue.TryParseList(value?.Split(','), out var parsed)
                && parsed.Any(p => p.Value.Equals(encoding, StringComparison.OrdinalIgnoreCase) && (p.Quality ?? 1) > 0))
            {
                return true;
            }
        }

        return false;
    }

    private static byte[] Compress(byte[] bytes, Func<Stream, Stream> compressor)
    {
        using var output = new MemoryStream();
        using (var stream = compressor(output))
        {
            stream.Write(bytes);
        }

        return output.ToArray();
    }

    private sealed record Asset(byte[] Bytes, byte[] Brotli, byte[] Gzip, string ContentType, string ETag);
}
