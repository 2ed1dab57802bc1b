using System.Buffers;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Security;

namespace LlmTrace.Domain.Proxy;

/// <summary>
/// The optional stages between the upstream body and the client: the usage filter, then the output monitor. With
/// neither, chunks go straight through; with either, only complete events are written (each as soon as it completes).
/// </summary>
internal sealed class StreamRewriter(StreamUsageFilter? filter, StreamOutputMonitor? monitor, int bufferSize)
{
    private readonly ArrayBufferWriter<byte>? _filtered = filter is null ? null : new ArrayBufferWriter<byte>(bufferSize);
    private readonly ArrayBufferWriter<byte>? _monitored = monitor is null ? null : new ArrayBufferWriter<byte>(bufferSize);

    public async ValueTask WriteAsync(Stream body, ReadOnlyMemory<byte> chunk, bool flush, CompletedExchange exchange, CancellationToken token)
    {
        if (filter is null && monitor is null)
        {
            await body.WriteAsync(chunk, token).ConfigureAwait(false);
            exchange.ResponseBytes += chunk.Length;
            if (flush)
            {
                await body.FlushAsync(token).ConfigureAwait(false);
            }

            return;
        }

        await WriteStagedAsync(body, chunk, complete: false, exchange, token).ConfigureAwait(false);
    }

    public ValueTask CompleteAsync(Stream body, CompletedExchange exchange, CancellationToken token)
        => filter is null && monitor is null ? ValueTask.CompletedTask : WriteStagedAsync(body, ReadOnlyMemory<byte>.Empty, complete: true, exchange, token);

    private async ValueTask WriteStagedAsync(Stream body, ReadOnlyMemory<byte> chunk, bool complete, CompletedExchange exchange, CancellationToken token)
    {
        ReadOnlyMemory<byte> data;
        if (filter is not null)
        {
            filter.Process(chunk.Span, _filtered!);
            if (complete)
            {
                filter.Complete(_filtered!);
            }

            data = _filtered!.WrittenMemory;
        }
        else
        {
            data = chunk;
        }

        if (monitor is not null)
        {
            monitor.Process(data.Span, _monitored!);
            if (complete)
            {
                monitor.Complete(_monitored!);
            }

            data = _monitored!.WrittenMemory;
        }

        if (!data.IsEmpty)
        {
            await body.WriteAsync(data, token).ConfigureAwait(false);
            exchange.ResponseBytes += data.Length;
            await body.FlushAsync(token).ConfigureAwait(false);
        }

        _filtered?.ResetWrittenCount();
        _monitored?.ResetWrittenCount();
    }
}
