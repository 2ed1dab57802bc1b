using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using LlmTrace.Domain.Proxy;
using LlmTrace.Functions.Proxy;
using LlmTrace.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LlmTrace.Tests.Proxy;

/// <summary>
/// The hostile-input corpus (<c>Proxy/Data/hostile-requests.json</c>) on both hosts: SelfHost over raw TCP, so every
/// byte of the request line, headers and body is exactly as written, and the Functions proxy called directly.
/// </summary>
public sealed class HostileRequestTests : IAsyncLifetime
{
    private static readonly JsonElement Corpus = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Proxy", "Data", "hostile-requests.json"))).RootElement.Clone();

    private FakeUpstream _upstream = null!;

    public static TheoryData<string> SelfHostCases => [.. Corpus.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("name").GetString()!)];

    public static TheoryData<string> FunctionsCases => [.. Corpus.GetProperty("cases").EnumerateArray().Where(c => c.GetProperty("functions").GetBoolean()).Select(c => c.GetProperty("name").GetString()!)];

    public async Task InitializeAsync() => _upstream = await FakeUpstream.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    [Theory]
    [MemberData(nameof(SelfHostCases))]
    public Task SelfHost_AnswersEveryHostileRequest_WithoutAGateway500(string name) => AnswersWithoutAGateway500Async(name, null);

    /// <summary>
    /// The same corpus over pooled routes: every route is a pool whose first backend refuses connections, so each call
    /// also goes through failover (and, after five, an open breaker) before the fake upstream answers it.
    /// </summary>
    [Theory]
    [MemberData(nameof(SelfHostCases))]
    public Task SelfHost_OverPooledRoutes_AnswersEveryHostileRequest_WithoutAGateway500(string name)
    {
        var down = $"http://127.0.0.1:{Ports.Free()}";
        var settings = new Dictionary<string, string?>();
        foreach (var route in LlmTrace.Domain.Providers.GatewayRoute.All)
        {
            var prefix = $"LlmTrace:Upstreams:Pools:{route.PoolKey}:Backends:";
            settings[prefix + "0:Url"] = down;
            settings[prefix + "0:Name"] = "down";
            settings[prefix + "1:Url"] = _upstream.BaseAddress.GetLeftPart(UriPartial.Authority);
            settings[prefix + "1:Name"] = "up";
            settings[prefix + "1:Priority"] = "1";
        }

        return AnswersWithoutAGateway500Async(name, settings);
    }

    private async Task AnswersWithoutAGateway500Async(string name, Dictionary<string, string?>? settings)
    {
        var testCase = Case(name);
        await using var gateway = await GatewayHost.StartAsync(_upstream, settings);
        var before = _upstream.Requests.Count();

        var (status, answer) = await SendRawAsync(gateway.BaseAddress, testCase);

        Assert.DoesNotContain("gateway_error", answer, StringComparison.Ordinal);
        Assert.True(status != 500, $"{name}: {answer[..Math.Min(600, answer.Length)]}");
        if (testCase.GetProperty("expect").GetString() == "forwarded")
        {
            Assert.True(_upstream.Requests.Count() == before + 1, $"{name}: not forwarded ({status}) {answer[..Math.Min(300, answer.Length)]}");
            Assert.Equal(Body(testCase), _upstream.Requests.Last().Body);
        }

        using var health = await gateway.CreateClient().GetAsync("/health");
        Assert.True(health.IsSuccessStatusCode);
    }

    [Theory]
    [MemberData(nameof(FunctionsCases))]
    public async Task Functions_AnswersEveryHostileRequest_WithoutAGateway500(string name)
    {
        var testCase = Case(name);
        using var host = await FunctionsTestHost.StartAsync(_upstream);
        var functions = new ProxyFunctions(host.Services.GetRequiredService<GatewayProxy>());
        var before = _upstream.Requests.Count();
        using var response = new MemoryStream();
        var target = testCase.GetProperty("target").GetString()!;
        var context = FunctionRequests.Create(host.Services, testCase.GetProperty("method").GetString()!, target, null, response);
        var body = Body(testCase);
        context.Request.Body = new MemoryStream(body);
        context.Request.ContentLength = body.Length;
        foreach (var header in testCase.GetProperty("headers").EnumerateArray())
        {
            context.Request.Headers[header[0].GetString()!] = header[1].GetString();
        }

        await (target.Split('/')[1] switch
        {
            "anthropic" => functions.AnthropicAsync(context.Request),
            "gemini" => functions.GeminiAsync(context.Request),
            _ => functions.OpenAIAsync(context.Request),
        });
        var answer = Encoding.UTF8.GetString(response.ToArray());

        Assert.DoesNotContain("gateway_error", answer, StringComparison.Ordinal);
        Assert.NotEqual(500, context.Response.StatusCode);
        if (testCase.GetProperty("expect").GetString() == "forwarded")
        {
            Assert.Equal(before + 1, _upstream.Requests.Count());
            Assert.Equal(body, _upstream.Requests.Last().Body);
        }

        await host.StopAsync();
    }

    private static JsonElement Case(string name) => Corpus.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    private static byte[] Body(JsonElement testCase)
    {
        if (testCase.TryGetProperty("bodyBase64", out var base64))
        {
            return Convert.FromBase64String(base64.GetString()!);
        }

        if (testCase.TryGetProperty("generate", out var generate))
        {
            var size = generate.TryGetProperty("bytes", out var bytes) ? bytes.GetInt32() : 0;
            return Encoding.UTF8.GetBytes(generate.GetProperty("kind").GetString() switch
            {
                "deep" => $$"""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"extra":{{new string('[', generate.GetProperty("depth").GetInt32())}}{{new string(']', generate.GetProperty("depth").GetInt32())}}}""",
                "long-model" => $$"""{"model":"{{new string('m', size)}}","messages":[{"role":"user","content":"hi"}]}""",
                "long-message" => $$"""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"{{new string('w', size)}}"}]}""",
                _ => """{"model":"gpt-4o-mini","messages":[""",
            });
        }

        return testCase.TryGetProperty("body", out var body) && body.ValueKind == JsonValueKind.String ? Encoding.UTF8.GetBytes(body.GetString()!) : [];
    }

    /// <summary>Sends the case byte for byte on a new connection; returns the status (0 when the server closed without one) and the answer.</summary>
    private static async Task<(int Status, string Answer)> SendRawAsync(Uri server, JsonElement testCase)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port);
        var stream = tcp.GetStream();
        var body = Body(testCase);
        var shortBody = testCase.TryGetProperty("generate", out var generate) && generate.GetProperty("kind").GetString() == "short-body";
        var head = new StringBuilder();
        head.Append(testCase.GetProperty("method").GetString()).Append(' ').Append(testCase.GetProperty("target").GetString()).Append(" HTTP/1.1\r\n");
        head.Append("Host: ").Append(server.Authority).Append("\r\n");
        head.Append("Authorization: Bearer sk-hostile-test\r\n");
        foreach (var header in testCase.GetProperty("headers").EnumerateArray())
        {
            head.Append(header[0].GetString()).Append(": ").Append(header[1].GetString()).Append("\r\n");
        }

        head.Append("Content-Length: ").Append(shortBody ? body.Length + 100 : body.Length).Append("\r\nConnection: close\r\n\r\n");
        try
        {
            await stream.WriteAsync(Encoding.Latin1.GetBytes(head.ToString()));
            await stream.WriteAsync(body);
            if (shortBody)
            {
                tcp.Client.Shutdown(SocketShutdown.Send);
            }
        }
        catch (IOException)
        {
            // The server may refuse and close before the whole request is written.
        }

        using var answer = new MemoryStream();
        try
        {
            await stream.CopyToAsync(answer).WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (IOException)
        {
            // A reset after the answer.
        }

        var text = Encoding.UTF8.GetString(answer.ToArray());
        var status = text.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) ? int.Parse(text.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture) : 0;
        return (status, text);
    }
}
