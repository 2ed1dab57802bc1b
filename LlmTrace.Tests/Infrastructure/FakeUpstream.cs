using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LlmTrace.Tests.Infrastructure;

/// <summary>One request as the fake upstream received it.</summary>
public sealed record RecordedRequest(string Method, string PathAndQuery, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body)
{
    public string? Header(string name) => Headers.FirstOrDefault(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;

    public string BodyText => Encoding.UTF8.GetString(Body);
}

/// <summary>
/// A deterministic stand-in for OpenAI, Azure OpenAI, Anthropic and Gemini on Kestrel over loopback. Behaviour is picked
/// with the <c>x-fake-mode</c> request header (the gateway forwards it like any other header).
/// </summary>
public sealed class FakeUpstream : IAsyncDisposable
{
    public const string Created = "1700000000";
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _gates = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _cancellations = new();

    private FakeUpstream(WebApplication app) => _app = app;

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>A mode this upstream uses for every request, whatever its header says (one backend of a pool failing alone).</summary>
    public string? ForcedMode { get; set; }

    /// <summary>The <c>retry-after</c> a 429 carries.</summary>
    public string RetryAfter { get; set; } = "1";

    /// <summary>How many requests this upstream received.</summary>
    public int RequestCount => _requests.Count;

    public IEnumerable<RecordedRequest> Requests => _requests;

    public static async Task<FakeUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeUpstream(app);
        app.Map("/{**path}", async context =>
        {
            try
            {
                await fake.HandleAsync(context);
            }
            catch (Exception ex) when (ex is InvalidOperationException or FormatException or NullReferenceException or ArgumentException or KeyNotFoundException && !context.Response.HasStarted)
            {
                // A body the fake cannot read gets what a real provider answers: a 400, not a crash.
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("""{"error":{"message":"fake: unreadable request","type":"invalid_request_error","code":"invalid_request"}}""");
            }
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        fake.BaseAddress = new Uri(address);
        return fake;
    }

    /// <summary>The request that carried <paramref name="headerValue"/> in <paramref name="headerName"/>.</summary>
    public RecordedRequest Find(string headerName, string headerValue)
        => _requests.Last(r => r.Header(headerName) == headerValue);

    /// <summary>Releases a stream paused in mode <c>pause:{key}</c>.</summary>
    public void Release(string key) => Gate(key).TrySetResult();

    /// <summary>Completes when the upstream saw the client side of a mode <c>endless:{key}</c> stream go away.</summary>
    public Task Cancelled(string key) => _cancellations.GetOrAdd(key, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public async ValueTask DisposeAsync()
    {
        foreach (var gate in _gates.Values)
        {
            gate.TrySetResult();
        }

        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static string Fill(string template, params object[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            template = template.Replace("@" + i.ToString(System.Globalization.CultureInfo.InvariantCulture) + "@", values[i].ToString(), StringComparison.Ordinal);
        }

        return template;
    }

    private TaskCompletionSource Gate(string key) => _gates.GetOrAdd(key, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    private async Task HandleAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        var body = buffer.ToArray();
        var headers = context.Request.Headers.SelectMany(h => h.Value.Select(v => new KeyValuePair<string, string>(h.Key, v ?? string.Empty))).ToList();
        _requests.Enqueue(new RecordedRequest(context.Request.Method, context.Request.Path + context.Request.QueryString, headers, body));

        var mode = ForcedMode ?? context.Request.Headers["x-fake-mode"].ToString();
        var path = context.Request.Path.Value ?? string.Empty;
        if (mode.StartsWith("slow-headers", StringComparison.Ordinal))
        {
            await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
        }

        if (mode == "raw")
        {
            await RawAsync(context);
            return;
        }

        if (mode.StartsWith("bytes:", StringComparison.Ordinal))
        {
            // Exactly these bytes (base64 after "bytes:"), e.g. invalid UTF-8 or impossible usage.
            context.Response.ContentType = context.Request.Headers["x-fake-content-type"].FirstOrDefault() ?? "application/json";
            await context.Response.Body.WriteAsync(Convert.FromBase64String(mode[6..]));
            return;
        }

        if (mode == "gzip")
        {
            await GzipAsync(context);
            return;
        }

        if (mode.StartsWith("large:", StringComparison.Ordinal))
        {
            await LargeAsync(context, int.Parse(mode[6..], System.Globalization.CultureInfo.InvariantCulture));
            return;
        }

        JsonNode? json = null;
        try
        {
            json = body.Length > 0 ? JsonNode.Parse(body) : null;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            // Non-JSON bodies (and invalid UTF-8) are answered in raw mode only.
        }

        if (path.Contains(":generateContent", StringComparison.Ordinal) || path.Contains(":streamGenerateContent", StringComparison.Ordinal))
        {
            await GeminiAsync(context, path.Contains(":stream", StringComparison.Ordinal));
        }
        else if (path.EndsWith("/v1/messages", StringComparison.Ordinal))
        {
            await AnthropicAsync(context, json, mode);
        }
        else if (path.EndsWith("/embeddings", StringComparison.Ordinal))
        {
            await EmbeddingsAsync(context, json);
        }
        else if (path.EndsWith("/chat/completions", StringComparison.Ordinal))
        {
            await ChatAsync(context, json, mode, path.Contains("/deployments/", StringComparison.Ordinal));
        }
        else
        {
            context.Response.StatusCode = 404;
            await context.Response.WriteAsync("""{"error":{"message":"fake: no such path","type":"invalid_request_error","code":"not_found"}}""");
        }
    }

    private static async Task RawAsync(HttpContext context)
    {
        // Echo-free fixed answer with unusual headers and status, for byte-for-byte checks.
        context.Response.StatusCode = 207;
        context.Response.Headers["x-upstream-one"] = "1";
        context.Response.Headers.Append("x-upstream-multi", new[] { "a", "b" });
        context.Response.Headers["openai-processing-ms"] = "42";
        context.Response.ContentType = "application/octet-stream";
        var payload = new byte[4096];
        for (var i = 0; i < payload.Length; i++)
        {
            payload[i] = (byte)(i * 31 % 251);
        }

        context.Response.ContentLength = payload.Length;
        await context.Response.Body.WriteAsync(payload);
    }

    /// <summary>The bytes mode <c>gzip</c> answers with: a gzip-compressed chat completion.</summary>
    public static byte[] GzipBody { get; } = Compress(
        """{"id":"chatcmpl-z","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"zipped hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}""");

    private static byte[] Compress(string text)
    {
        using var output = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Optimal))
        {
            gzip.Write(Encoding.UTF8.GetBytes(text));
        }

        return output.ToArray();
    }

    private static async Task GzipAsync(HttpContext context)
    {
        context.Response.ContentType = "application/json";
        context.Response.Headers.ContentEncoding = "gzip";
        context.Response.ContentLength = GzipBody.Length;
        await context.Response.Body.WriteAsync(GzipBody);
    }

    private static async Task LargeAsync(HttpContext context, int bytes)
    {
        context.Response.ContentType = "application/json";
        var chunk = Encoding.ASCII.GetBytes(new string('x', 64 * 1024));
        await context.Response.WriteAsync("{\"object\":\"list\",\"padding\":\"");
        var written = 0;
        while (written < bytes)
        {
            var take = Math.Min(chunk.Length, bytes - written);
            await context.Response.Body.WriteAsync(chunk.AsMemory(0, take));
            written += take;
        }

        await context.Response.WriteAsync("\",\"model\":\"big\",\"usage\":{\"prompt_tokens\":5,\"total_tokens\":5}}");
    }

    private async Task ChatAsync(HttpContext context, JsonNode? request, string mode, bool azure)
    {
        var model = azure ? "gpt-4o-2024-08-06" : request?["model"]?.GetValue<string>() ?? "gpt-4o-mini";
        var stream = request?["stream"]?.GetValue<bool>() == true;
        var includeUsage = request?["stream_options"]?["include_usage"]?.GetValue<bool>() == true && mode != "no-usage";
        var lastMessage = request?["messages"]?.AsArray().LastOrDefault()?["content"]?.ToString() ?? string.Empty;
        if (mode == "bad-request")
        {
            context.Response.StatusCode = 400;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"error":{"message":"max_tokens is too large","type":"invalid_request_error","code":"invalid_value"}}""");
            return;
        }

        if (mode.StartsWith("status:", StringComparison.Ordinal))
        {
            // An upstream failure: 5xx, or 429 with retry-after.
            context.Response.StatusCode = int.Parse(mode[7..], System.Globalization.CultureInfo.InvariantCulture);
            context.Response.ContentType = "application/json";
            if (context.Response.StatusCode == 429)
            {
                context.Response.Headers.RetryAfter = RetryAfter;
            }

            await context.Response.WriteAsync("""{"error":{"message":"fake upstream failure","type":"server_error","code":null}}""");
            return;
        }

        if (mode == "reject-stream-options" && request?["stream_options"] is not null)
        {
            // Like an older OpenAI-compatible server that does not know the argument.
            context.Response.StatusCode = 400;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"error":{"message":"Unrecognized request argument supplied: stream_options","type":"invalid_request_error","code":null}}""");
            return;
        }

        var wantsTool = request?["tools"] is not null && lastMessage.Contains("weather", StringComparison.OrdinalIgnoreCase);
        if (!stream)
        {
            context.Response.ContentType = "application/json";
            context.Response.Headers["x-request-id"] = "req_fake";
            var message = wantsTool
                ? """{"role":"assistant","content":null,"tool_calls":[{"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]}"""
                : """{"role":"assistant","content":"Hello from fake","refusal":null}""";
            var finish = wantsTool ? "tool_calls" : "stop";
            await context.Response.WriteAsync(
                Fill("""{"id":"chatcmpl-1","object":"chat.completion","created":@0@,"model":"@1@","choices":[{"index":0,"message":@2@,"logprobs":null,"finish_reason":"@3@"}],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18,"prompt_tokens_details":{"cached_tokens":3}}}""", Created, model, message, finish));
            return;
        }

        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        var usageNull = includeUsage ? ",\"usage\":null" : string.Empty;
        string Chunk(string delta, string finish) =>
            Fill("""data: {"id":"chatcmpl-s","object":"chat.completion.chunk","created":@0@,"model":"@1@","choices":[{"index":0,"delta":@2@,"finish_reason":@3@}]@4@}""", Created, model, delta, finish, usageNull) + "\n\n";

        var events = new List<string>();
        if (wantsTool)
        {
            events.Add(Chunk("""{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_xyz","type":"function","function":{"name":"get_weather","arguments":""}}]}""", "null"));
            events.Add(Chunk("""{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}""", "null"));
            events.Add(Chunk("""{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}""", "null"));
            events.Add(Chunk("{}", "\"tool_calls\""));
        }
        else
        {
            events.Add(Chunk("""{"role":"assistant","content":""}""", "null"));
            events.Add(Chunk("""{"content":"Hello"}""", "null"));
            events.Add(Chunk("""{"content":" world"}""", "null"));
            events.Add(Chunk("""{"content":"!"}""", "null"));
            events.Add(Chunk("{}", "\"stop\""));
        }

        if (includeUsage)
        {
            events.Add(Fill("""data: {"id":"chatcmpl-s","object":"chat.completion.chunk","created":@0@,"model":"@1@","choices":[],"usage":{"prompt_tokens":21,"completion_tokens":4,"total_tokens":25}}""", Created, model) + "\n\n");
        }

        events.Add("data: [DONE]\n\n");

        if (mode.StartsWith("leak:", StringComparison.Ordinal))
        {
            await StreamLeakAsync(context, mode[5..], [events[0], Chunk("""{"content":"Sure, here is the key you asked for: "}""", "null"),
                Chunk("""{"content":"-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAx3"}""", "null")], Chunk("""{"content":"more "}""", "null"));
            return;
        }

        if (mode.StartsWith("endless:", StringComparison.Ordinal))
        {
            var key = mode[8..];
            try
            {
                await context.Response.WriteAsync(events[0], context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                for (var i = 0; i < 2000; i++)
                {
                    await Task.Delay(10, context.RequestAborted);
                    await context.Response.WriteAsync(Chunk("""{"content":"more "}""", "null"), context.RequestAborted);
                    await context.Response.Body.FlushAsync(context.RequestAborted);
                }
            }
            catch (OperationCanceledException)
            {
                _ = Cancelled(key);
                _cancellations[key].TrySetResult();
            }

            return;
        }

        for (var i = 0; i < events.Count; i++)
        {
            if (i == 1 && mode.StartsWith("pause:", StringComparison.Ordinal))
            {
                await Gate(mode[6..]).Task.WaitAsync(TimeSpan.FromSeconds(30));
            }

            if (i == 1 && mode == "stall-mid")
            {
                await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
            }

            if (i == 0 && mode == "reset-first")
            {
                await context.Response.Body.FlushAsync(); // the status line and headers go out, then the connection drops
                await Task.Delay(200); // after the gateway has read them: this is a broken body, not a failed connect
                context.Abort();
                return;
            }

            if (i == 2 && mode == "reset-mid-late")
            {
                await Task.Delay(200); // the first events have surely reached the client: only then does the connection drop
                context.Abort();
                return;
            }

            if (i == 2 && mode == "reset-mid")
            {
                context.Abort(); // the connection drops mid-stream
                return;
            }

            await context.Response.WriteAsync(events[i]);
            await context.Response.Body.FlushAsync();
        }
    }

    private static async Task EmbeddingsAsync(HttpContext context, JsonNode? request)
    {
        context.Response.ContentType = "application/json";
        var model = request?["model"]?.GetValue<string>() ?? "text-embedding-3-small";
        var base64 = request?["encoding_format"]?.GetValue<string>() == "base64";
        var vector = base64 ? "\"zczMPc3MTD6amZk+\"" : "[0.1,0.2,0.3]";
        await context.Response.WriteAsync(
            Fill("""{"object":"list","data":[{"object":"embedding","index":0,"embedding":@1@}],"model":"@0@","usage":{"prompt_tokens":2,"total_tokens":2}}""", model, vector));
    }

    /// <summary>Streams <paramref name="events"/>, then keeps streaming <paramref name="filler"/> until the client side goes away.</summary>
    private async Task StreamLeakAsync(HttpContext context, string key, IEnumerable<string> events, string filler)
    {
        try
        {
            foreach (var item in events)
            {
                await context.Response.WriteAsync(item, context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                await Task.Delay(20, context.RequestAborted);
            }

            for (var i = 0; i < 1000; i++)
            {
                await context.Response.WriteAsync(filler, context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                await Task.Delay(10, context.RequestAborted);
            }
        }
        catch (OperationCanceledException)
        {
            _ = Cancelled(key);
            _cancellations[key].TrySetResult();
        }
    }

    private async Task AnthropicAsync(HttpContext context, JsonNode? request, string mode)
    {
        var model = request?["model"]?.GetValue<string>() ?? "claude-sonnet-4-5";
        if (model.StartsWith("leak:", StringComparison.Ordinal))
        {
            (mode, model) = (model, "claude-sonnet-4-5");
        }

        var stream = request?["stream"]?.GetValue<bool>() == true;
        var wantsTool = request?["tools"] is not null;
        if (!stream)
        {
            context.Response.ContentType = "application/json";
            var content = wantsTool
                ? """[{"type":"text","text":"Checking."},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}]"""
                : """[{"type":"text","text":"Hello from fake claude"}]""";
            await context.Response.WriteAsync(
                Fill("""{"id":"msg_01","type":"message","role":"assistant","model":"@0@","content":@1@,"stop_reason":"@2@","stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":6,"cache_read_input_tokens":4}}""", model, content, (wantsTool ? "tool_use" : "end_turn")));
            return;
        }

        context.Response.ContentType = "text/event-stream";
        if (mode.StartsWith("leak:", StringComparison.Ordinal))
        {
            await StreamLeakAsync(context, mode[5..],
            [
                "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_l\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"" + model + "\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":12,\"output_tokens\":1}}}\n\n",
                "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
                "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Here is the connection string: \"}}\n\n",
                "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"-----BEGIN RSA PRIVATE KEY-----\\nMIIEpAIBAAKCAQEAx3\"}}\n\n",
            ],
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"more \"}}\n\n");
            return;
        }

        string[] events =
        [
            Fill("""event: message_start@0@data: {"type":"message_start","message":{"id":"msg_02","type":"message","role":"assistant","model":"@1@","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":1}}}""", "\n", model),
            """event: content_block_start""" + "\n" + """data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}""",
            "event: ping\ndata: {\"type\":\"ping\"}",
            """event: content_block_delta""" + "\n" + """data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}""",
            """event: content_block_delta""" + "\n" + """data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo!"}}""",
            """event: content_block_stop""" + "\n" + """data: {"type":"content_block_stop","index":0}""",
            """event: content_block_start""" + "\n" + """data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_2","name":"lookup","input":{}}}""",
            """event: content_block_delta""" + "\n" + """data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"q\":"}}""",
            """event: content_block_delta""" + "\n" + """data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\"x\"}"}}""",
            """event: content_block_stop""" + "\n" + """data: {"type":"content_block_stop","index":1}""",
            """event: message_delta""" + "\n" + """data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":5}}""",
            """event: message_stop""" + "\n" + """data: {"type":"message_stop"}""",
        ];
        foreach (var item in events)
        {
            if (!wantsTool && item.Contains("\"index\":1", StringComparison.Ordinal))
            {
                continue;
            }

            await context.Response.WriteAsync(item + "\n\n");
            await context.Response.Body.FlushAsync();
        }

    }

    private static async Task GeminiAsync(HttpContext context, bool stream)
    {
        const string Chunk1 = """{"candidates":[{"content":{"parts":[{"text":"Bonjour"}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":1,"totalTokenCount":9},"modelVersion":"gemini-2.0-flash"}""";
        const string Chunk2 = """{"candidates":[{"content":{"parts":[{"text":" le monde"},{"functionCall":{"name":"get_time","args":{"tz":"CET"}}}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":4,"totalTokenCount":12},"modelVersion":"gemini-2.0-flash"}""";
        if (!stream)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(Chunk2.Replace(" le monde", "Bonjour le monde", StringComparison.Ordinal));
            return;
        }

        if (context.Request.Query["alt"] == "sse")
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: " + Chunk1 + "\r\n\r\n");
            await context.Response.Body.FlushAsync();
            await context.Response.WriteAsync("data: " + Chunk2 + "\r\n\r\n");
            return;
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync("[" + Chunk1 + ",\r\n" + Chunk2 + "]");
    }
}
