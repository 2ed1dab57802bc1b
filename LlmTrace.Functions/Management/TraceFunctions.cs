using LlmTrace.Domain.Management;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace LlmTrace.Functions.Management;

/// <summary>The read side: traces and health, served by the same domain handlers as SelfHost.</summary>
public sealed class TraceFunctions(ManagementApi api)
{
    [Function("ListTraces")]
    public Task ListAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/traces")] HttpRequest request)
        => api.ListTracesAsync(request.HttpContext);

    [Function("GetTrace")]
    public Task GetAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/traces/{traceId}")] HttpRequest request, string traceId)
        => api.GetTraceAsync(request.HttpContext, traceId);

    [Function("Health")]
    public Task HealthAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request)
        => api.HealthAsync(request.HttpContext);
}
