using LlmTrace.Domain.Management;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace LlmTrace.Functions.Management;

/// <summary>The management API and health, served by the same domain router as SelfHost.</summary>
public sealed class ManagementFunctions(ManagementApi api)
{
    [Function("Management")]
    public Task ManageAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", "put", "patch", "delete", Route = "api/{*path}")] HttpRequest request, string? path)
        => api.HandleAsync(request.HttpContext, path);

    [Function("Health")]
    public Task HealthAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request)
        => api.HealthAsync(request.HttpContext);

    [Function("HealthLive")]
    public Task LiveAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health/live")] HttpRequest request)
        => ManagementApi.LiveAsync(request.HttpContext);

    [Function("HealthReady")]
    public Task ReadyAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health/ready")] HttpRequest request)
        => api.ReadyAsync(request.HttpContext);
}
