using System.Net;
using System.Text.RegularExpressions;
using LlmTrace.Domain.Dashboard;
using LlmTrace.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace LlmTrace.Tests.Dashboard;

/// <summary>How both hosts serve the dashboard's files: headers that make it safe by construction, caching, size, no other origin.</summary>
public sealed partial class DashboardServingTests : IAsyncLifetime
{
    private GatewayHost _gateway = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _gateway = await GatewayHost.StartAsync(null);
        _http = new HttpClient(new HttpClientHandler { AutomaticDecompression = DecompressionMethods.None, AllowAutoRedirect = false }) { BaseAddress = _gateway.BaseAddress };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _gateway.DisposeAsync();
    }

    [Fact]
    public async Task Index_CarriesAStrictPolicy_AndNoCookie()
    {
        using var response = await _http.GetAsync("/ui/");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.False(response.Headers.Contains("Set-Cookie"));
        Assert.Contains("<script type=\"module\" src=\"js/app.js\"></script>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Assets_ArePreCompressed_Revalidated_AndReadOnly()
    {
        using var plain = await _http.GetAsync("/ui/js/app.js");
        using var brotliRequest = new HttpRequestMessage(HttpMethod.Get, "/ui/js/app.js") { Headers = { { "Accept-Encoding", "gzip, br" } } };
        using var brotli = await _http.SendAsync(brotliRequest);
        using var conditional = new HttpRequestMessage(HttpMethod.Get, "/ui/js/app.js") { Headers = { { "If-None-Match", plain.Headers.ETag!.Tag } } };
        using var notModified = await _http.SendAsync(conditional);
        using var noSlash = await _http.GetAsync("/ui");
        using var missing = await _http.GetAsync("/ui/js/nothing.js");
        using var post = await _http.PostAsync("/ui/", new StringContent("x"));
        using var traversal = await _http.GetAsync("/ui/..%2F..%2Fappsettings.json");

        Assert.Equal("text/javascript", plain.Content.Headers.ContentType!.MediaType);
        Assert.Equal("br", brotli.Content.Headers.ContentEncoding.Single());
        Assert.True(brotli.Content.Headers.ContentLength < plain.Content.Headers.ContentLength);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal(HttpStatusCode.PermanentRedirect, noSlash.StatusCode);
        Assert.Equal("/ui/", noSlash.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, traversal.StatusCode);
    }

    [Fact]
    public void Assets_FitTheBudget_AndReachNoOtherOrigin()
    {
        var assets = new DashboardAssets();
        var files = assets.Files.ToList();

        Assert.Contains(files, f => f.Path == "index.html");
        Assert.Contains(files, f => f.Path == "js/pages/trace.js");
        Assert.True(files.Sum(f => f.Brotli) <= 500 * 1024, $"{files.Sum(f => f.Brotli)} bytes compressed");
        var root = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "LlmTrace.Domain", "Dashboard", "wwwroot");
        foreach (var path in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            var text = File.ReadAllText(path);
            // The only absolute URL allowed is the SVG namespace, which is a name, not a fetch.
            Assert.DoesNotContain(ExternalUrl().Matches(text), m => m.Value != "http://www.w3.org/2000/svg");
            Assert.DoesNotContain("innerHTML", text, StringComparison.Ordinal);
            Assert.DoesNotContain("insertAdjacentHTML", text, StringComparison.Ordinal);
            Assert.DoesNotContain("eval(", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task FunctionsHost_ServesTheSameFiles()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        using var host = await FunctionsTestHost.StartAsync(upstream);
        var functions = host.Services.GetRequiredService<LlmTrace.Functions.Management.DashboardFunctions>();
        var context = new DefaultHttpContext { RequestServices = host.Services };
        context.Request.Method = "GET";
        context.Request.Path = "/ui/";
        context.Response.Body = new MemoryStream();

        await functions.ServeAsync(context.Request, null);

        Assert.Equal(200, context.Response.StatusCode);
        Assert.Equal(DashboardAssets.ContentSecurityPolicy, context.Response.Headers.ContentSecurityPolicy.ToString());
        Assert.Contains("LlmTrace", System.Text.Encoding.UTF8.GetString(((MemoryStream)context.Response.Body).ToArray()), StringComparison.Ordinal);
    }

    [GeneratedRegex(@"https?://[^\s'""`)]+")]
    private static partial Regex ExternalUrl();
}
