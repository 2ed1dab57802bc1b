using LlmTrace.Domain.Management;
using LlmTrace.Domain.Providers;
using LlmTrace.Domain.Proxy;

namespace LlmTrace.SelfHost;

/// <summary>The same routes the Functions host declares with triggers, mapped onto ASP.NET Core endpoints.</summary>
internal static class GatewayEndpoints
{
    public static IEndpointRouteBuilder MapGateway(this IEndpointRouteBuilder endpoints)
    {
        var proxy = endpoints.ServiceProvider.GetRequiredService<GatewayProxy>();
        var api = endpoints.ServiceProvider.GetRequiredService<ManagementApi>();

        foreach (var route in GatewayRoute.All)
        {
            endpoints.Map(route.ClientPrefix + "/{**path}", context => proxy.ForwardAsync(context, route));
        }

        endpoints.Map("/api/{**path}", (HttpContext context, string? path) => api.HandleAsync(context, path));
        var dashboard = endpoints.ServiceProvider.GetRequiredService<LlmTrace.Domain.Dashboard.DashboardAssets>();
        endpoints.Map("/ui", context => dashboard.HandleAsync(context, null));
        endpoints.Map("/ui/{**path}", (HttpContext context, string? path) => dashboard.HandleAsync(context, path));
        endpoints.MapGet("/health", api.HealthAsync);
        endpoints.MapGet("/health/live", ManagementApi.LiveAsync);
        endpoints.MapGet("/health/ready", api.ReadyAsync);
        endpoints.Map("/{**path}", proxy.NotFoundAsync);
        return endpoints;
    }
}
