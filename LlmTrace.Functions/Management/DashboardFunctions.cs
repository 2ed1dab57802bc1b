using LlmTrace.Domain.Dashboard;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace LlmTrace.Functions.Management;

/// <summary>The web dashboard's static files (embedded in the build), served exactly as SelfHost serves them.</summary>
public sealed class DashboardFunctions(DashboardAssets dashboard)
{
    [Function("Dashboard")]
    public Task ServeAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "ui/{*path}")] HttpRequest request, string? path)
        => dashboard.HandleAsync(request.HttpContext, path);

    [Function("DashboardRoot")]
    public Task RootAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "ui")] HttpRequest request)
        => dashboard.HandleAsync(request.HttpContext, null);
}
