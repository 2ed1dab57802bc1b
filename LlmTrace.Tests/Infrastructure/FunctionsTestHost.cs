using LlmTrace.Functions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LlmTrace.Tests.Infrastructure;

/// <summary>
/// The Functions host's service registrations (as <c>Program.cs</c> makes them), in-process transport, started without
/// the Functions runtime; its classes are called directly. OpenAI-style, Anthropic and Gemini routes go to
/// <paramref name="upstream"/>; Azure OpenAI is left unconfigured.
/// </summary>
internal static class FunctionsTestHost
{
    public static async Task<IHost> StartAsync(FakeUpstream upstream, IDictionary<string, string?>? settings = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        var origin = upstream.BaseAddress.ToString();
        var values = new Dictionary<string, string?>
        {
            ["LlmTrace:Upstreams:Default"] = origin,
            ["LlmTrace:Upstreams:Anthropic"] = origin,
            ["LlmTrace:Upstreams:Gemini"] = origin,
            [FunctionsGatewayExtensions.TransportSetting] = "InProcess",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(values);
        builder.AddGateway();
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }
}
