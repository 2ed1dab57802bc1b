using Microsoft.Extensions.Hosting;

namespace LlmTrace.Domain.Security;

/// <summary>
/// Runs the fast rules once at start-up, so the first real requests are not judged by cold, just-compiled code against
/// the enforcement time budget (which would let them through unjudged, or refuse them when failing closed).
/// </summary>
internal sealed class SecurityWarmup(PromptInjectionDetector detector) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        detector.WarmUp();
        SensitiveDataDetector.Detect("warm-up jane@example.com 4111 1111 1111 1111 sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
