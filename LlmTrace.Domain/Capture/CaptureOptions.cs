using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Capture;

/// <summary>The in-process capture queue. Bound from <c>LlmTrace:Capture</c>.</summary>
public sealed class CaptureOptions
{
    public const string SectionName = "LlmTrace:Capture";

    /// <summary>Traces the in-process queue holds before producers wait (they never drop).</summary>
    [Range(1, 1_000_000)]
    public int QueueCapacity { get; set; } = 10_000;

    /// <summary>Most traces written to the store in one batch.</summary>
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 256;

    /// <summary>
    /// How long the consumer waits for more traces when a batch is not full: fewer, larger store writes under load. Unset,
    /// it is 0 when processing runs in the background (under load the queue fills while the processing thread waits for
    /// the CPU, so batches grow by themselves, and at low load a trace is processed at once instead of in a burst with
    /// others that delays the calls it overlaps) and 20 otherwise.
    /// </summary>
    [Range(0, 1000)]
    public int? BatchDelayMilliseconds { get; set; }

    /// <summary>
    /// Attempts before a failing batch is taken apart: each trace is then tried alone, and one that keeps failing for a
    /// reason of its own (not an outage of the store) is set aside as a poison message, with an alert.
    /// </summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>
    /// How processing shares the CPU with request handling. <see cref="ProcessingPriority.Background"/> (the default)
    /// runs each batch on one thread below normal priority while processing keeps up, so calls are answered first and
    /// processed in the time left over; with a backlog of a full batch or more, batches run at normal priority.
    /// </summary>
    public ProcessingPriority ProcessingPriority { get; set; } = ProcessingPriority.Background;

    /// <summary>Longest the consumer keeps draining on shutdown.</summary>
    [Range(1, 600)]
    public int DrainTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// Captures a host with a remote queue holds in memory while storage is unreachable (see <see cref="CaptureOutbox"/>);
    /// past it, a capture is lost and counted.
    /// </summary>
    [Range(0, 1_000_000)]
    public int OutboxCapacity { get; set; } = 10_000;

    /// <summary>First pause before held captures are offered to storage again; it doubles while storage refuses, up to a minute.</summary>
    [Range(1, 60)]
    public int OutboxRetrySeconds { get; set; } = 2;
}

[OptionsValidator]
internal sealed partial class CaptureOptionsValidator : IValidateOptions<CaptureOptions>;
