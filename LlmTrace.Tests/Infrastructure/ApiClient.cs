using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace LlmTrace.Tests.Infrastructure;

/// <summary>A reply from the gateway: status, parsed JSON body (or default), headers.</summary>
public sealed record ApiReply(HttpStatusCode Status, JsonElement Json, string Text, HttpResponseHeaders Headers, HttpContentHeaders? ContentHeaders)
{
    public string? Header(string name)
        => Headers.TryGetValues(name, out var values) ? string.Join(",", values)
            : ContentHeaders is not null && ContentHeaders.TryGetValues(name, out var content) ? string.Join(",", content) : null;

    public string? ErrorCode => Json.ValueKind == JsonValueKind.Object && Json.TryGetProperty("error", out var e) && e.TryGetProperty("code", out var c) ? c.GetString() : null;
}

/// <summary>Raw HTTP calls to the gateway with an optional bearer credential and a JSON body.</summary>
public sealed class ApiClient(HttpClient http, string? bearer = null)
{
    public ApiClient As(string? credential) => new(http, credential);

    public Task<ApiReply> GetAsync(string path) => SendAsync(HttpMethod.Get, path);

    public Task<ApiReply> PostAsync(string path, string json) => SendAsync(HttpMethod.Post, path, json);

    public Task<ApiReply> PatchAsync(string path, string json) => SendAsync(HttpMethod.Patch, path, json);

    public Task<ApiReply> PutAsync(string path, string json) => SendAsync(HttpMethod.Put, path, json);

    public Task<ApiReply> DeleteAsync(string path) => SendAsync(HttpMethod.Delete, path);

    public async Task<ApiReply> SendAsync(HttpMethod method, string path, string? json = null, IDictionary<string, string>? headers = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path);
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, contentType);
        }

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonElement parsed = default;
        if (text.Length > 0 && response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.Ordinal) == true)
        {
            parsed = JsonDocument.Parse(text).RootElement.Clone();
        }

        return new ApiReply(response.StatusCode, parsed, text, response.Headers, response.Content.Headers);
    }

    /// <summary>A chat completion through the gateway's OpenAI route.</summary>
    public Task<ApiReply> ChatAsync(string? agent = null, bool stream = false, int? maxTokens = null, string content = "Say hello", IDictionary<string, string>? headers = null, string model = "gpt-4o-mini")
    {
        var all = new Dictionary<string, string>(headers ?? new Dictionary<string, string>());
        if (agent is not null)
        {
            all["X-LLMTrace-Agent-ID"] = agent;
        }

        var body = JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["model"] = model,
            ["messages"] = new[] { new { role = "user", content } },
            ["stream"] = stream,
            ["max_tokens"] = maxTokens,
        });
        return SendAsync(HttpMethod.Post, "/v1/chat/completions", body, all);
    }
}
