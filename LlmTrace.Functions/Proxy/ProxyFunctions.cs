using LlmTrace.Domain.Providers;
using LlmTrace.Domain.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace LlmTrace.Functions.Proxy;

/// <summary>The proxied routes. Each function hands the live HttpContext to the domain proxy, which streams the answer.</summary>
public sealed class ProxyFunctions(GatewayProxy proxy)
{
    [Function("ProxyOpenAI")]
    public Task OpenAIAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", "put", "patch", "delete", Route = "v1/{*path}")] HttpRequest request)
        => proxy.ForwardAsync(request.HttpContext, GatewayRoute.OpenAI);

    [Function("ProxyAzureOpenAI")]
    public Task AzureOpenAIAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", "put", "patch", "delete", Route = "openai/{*path}")] HttpRequest request)
        => proxy.ForwardAsync(request.HttpContext, GatewayRoute.AzureOpenAI);

    [Function("ProxyAnthropic")]
    public Task AnthropicAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", "put", "patch", "delete", Route = "anthropic/{*path}")] HttpRequest request)
        => proxy.ForwardAsync(request.HttpContext, GatewayRoute.Anthropic);

    [Function("ProxyGemini")]
    public Task GeminiAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", "put", "patch", "delete", Route = "gemini/{*path}")] HttpRequest request)
        => proxy.ForwardAsync(request.HttpContext, GatewayRoute.Gemini);

    /// <summary>Anything else: a provider-shaped 404 with a trace.</summary>
    [Function("NotFound")]
    public Task NotFoundAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", "put", "patch", "delete", "head", "options", Route = "{*path}")] HttpRequest request)
        => proxy.NotFoundAsync(request.HttpContext);
}
