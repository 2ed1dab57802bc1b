using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Capture;

/// <summary>
/// The in-process capture queue: a bounded channel. When full, producers wait (back-pressure after the client already
/// has its response) instead of dropping a trace.
/// </summary>
internal sealed class ChannelCaptureQueue : ICaptureQueue
{
    private readonly Channel<Trace> _channel;

    public ChannelCaptureQueue(IOptions<CaptureOptions> options)
    {
        Capacity = options.Value.QueueCapacity;
        _channel = Channel.CreateBounded<Trace>(new BoundedChannelOptions(Capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
        });
    }

    public int Capacity { get; }

    public int Count => _channel.Reader.Count;

    internal ChannelReader<Trace> Reader => _channel.Reader;

    public ValueTask EnqueueAsync(Trace trace, CancellationToken cancellationToken)
        => _channel.Writer.WriteAsync(trace, cancellationToken);

    /// <summary>No more traces will come; the consumer drains what is left and stops.</summary>
    internal void Complete() => _channel.Writer.TryComplete();
}
