using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Proxy;

/// <summary>How the proxy talks to upstreams. Bound from <c>LlmTrace:Proxy</c>.</summary>
public sealed class ProxyOptions
{
    public const string SectionName = "LlmTrace:Proxy";

    /// <summary>Longest silence from upstream (waiting for headers, or between two reads of the body) before the call fails with 504.</summary>
    [Range(1, 3600)]
    public int IdleTimeoutSeconds { get; set; } = 300;

    [Range(1, 120)]
    public int ConnectTimeoutSeconds { get; set; } = 10;

    /// <summary>Largest request body forwarded; larger ones get 413 before anything is sent upstream.</summary>
    [Range(1024, 1L << 30)]
    public long MaxRequestBodyBytes { get; set; } = 25L * 1024 * 1024;

    /// <summary>
    /// Most request-body bytes all calls of the process may hold in memory at once; past it a call gets 503 with
    /// <c>retry-after</c> instead of the process running out of memory.
    /// </summary>
    [Range(1024 * 1024, 1L << 40)]
    public long MaxBufferedRequestBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>How much of each response is kept for the trace (the rest is forwarded, not kept).</summary>
    [Range(4096, 64 * 1024 * 1024)]
    public int MaxCaptureBytes { get; set; } = 1024 * 1024;

    /// <summary>How much of the end of an over-limit response is kept, to still read its usage.</summary>
    [Range(0, 4 * 1024 * 1024)]
    public int CaptureTailBytes { get; set; } = 64 * 1024;

    /// <summary>Add <c>stream_options.include_usage</c> to OpenAI-style streaming calls that lack it, and hide the usage chunk from the client.</summary>
    public bool InjectStreamUsage { get; set; } = true;

    [Range(1024, 1024 * 1024)]
    public int CopyBufferBytes { get; set; } = 16 * 1024;
}

[OptionsValidator]
internal sealed partial class ProxyOptionsValidator : IValidateOptions<ProxyOptions>;
