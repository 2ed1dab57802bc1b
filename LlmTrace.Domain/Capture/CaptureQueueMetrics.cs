using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;

namespace LlmTrace.Domain.Capture;

/// <summary>
/// Gauges of the in-process capture path (SelfHost): traces waiting in the queue, and traces journaled but not yet
/// stored (the journal's lag). A hosted service only so that the host creates it at start-up.
/// </summary>
internal sealed class CaptureQueueMetrics : IHostedService
{
    public CaptureQueueMetrics(IMeterFactory meters, ChannelCaptureQueue queue, CaptureJournal journal)
    {
        var meter = meters.Create(Telemetry.GatewayTelemetry.Name);
        meter.CreateObservableGauge("llmtrace.capture.queue.depth", () => queue.Count, "{trace}", "Traces waiting in the in-process capture queue.");
        meter.CreateObservableGauge(
            "llmtrace.capture.queue.capacity", () => queue.Capacity, "{trace}", "Traces the in-process capture queue holds before producers wait.");
        meter.CreateObservableGauge(
            "llmtrace.capture.journal.outstanding", () => journal.Outstanding, "{trace}", "Traces journaled and not yet stored: the journal's lag.");
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
