using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LlmTrace.Tests.Infrastructure;

/// <summary>A Logic-Apps-like HTTP trigger on loopback that records each delivery and answers with scripted statuses.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<int> _statuses = new();

    private WebhookReceiver(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    public ConcurrentQueue<(byte[] Body, string? Signature)> Deliveries { get; } = new();

    public int Attempts;

    public static async Task<WebhookReceiver> StartAsync(params int[] statuses)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        foreach (var status in statuses)
        {
            receiver._statuses.Enqueue(status);
        }

        app.MapPost("/hook", async (HttpContext context) =>
        {
            Interlocked.Increment(ref receiver.Attempts);
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer);
            var status = receiver._statuses.TryDequeue(out var scripted) ? scripted : 202;
            if (status < 300)
            {
                receiver.Deliveries.Enqueue((buffer.ToArray(), context.Request.Headers["x-llmtrace-signature"].FirstOrDefault()));
            }

            context.Response.StatusCode = status;
        });
        await app.StartAsync();
        receiver.Url = new Uri(new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()), "/hook");
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
