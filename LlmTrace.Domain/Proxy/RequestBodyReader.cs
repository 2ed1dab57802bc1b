using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace LlmTrace.Domain.Proxy;

internal enum RequestBodyOutcome
{
    Read,
    TooLarge,
    ClientAborted,

    /// <summary>The client stopped sending the body (Kestrel's minimum data rate or body timeout): a 408, never a 200.</summary>
    TimedOut,

    /// <summary>The process already holds as many request bytes as it may (<see cref="RequestMemoryBudget"/>): a 503.</summary>
    OverCapacity,
}

/// <summary>The request body read into one pooled array (return it with <see cref="RequestBodyReader.Return"/>).</summary>
internal readonly record struct RequestBody(RequestBodyOutcome Outcome, byte[]? Buffer, int Length);

/// <summary>
/// The request-body bytes every call of the process holds at once, against a cap: slow clients that declare large
/// bodies, or many large requests together, get a 503 instead of exhausting the heap.
/// </summary>
public sealed class RequestMemoryBudget(Microsoft.Extensions.Options.IOptions<ProxyOptions> options)
{
    private readonly long _limit = options.Value.MaxBufferedRequestBytes;
    private long _held;

    public long Held => Interlocked.Read(ref _held);

    public bool TryReserve(long bytes)
    {
        if (Interlocked.Add(ref _held, bytes) <= _limit)
        {
            return true;
        }

        Interlocked.Add(ref _held, -bytes);
        return false;
    }

    public void Release(long bytes) => Interlocked.Add(ref _held, -bytes);
}

/// <summary>
/// Reads a request body up to the gateway's limit. Request bodies are buffered (they are bounded and must be parsed,
/// and may be rewritten); responses never are.
/// </summary>
internal static class RequestBodyReader
{
    internal const int InitialBufferBytes = 64 * 1024;

    /// <summary>Returns a body's buffer to the pool and its bytes to the budget.</summary>
    public static void Return(byte[] buffer, RequestMemoryBudget budget)
    {
        budget.Release(buffer.Length);
        ArrayPool<byte>.Shared.Return(buffer);
    }

    public static async Task<RequestBody> ReadAsync(HttpContext context, long limit, RequestMemoryBudget budget)
    {
        var request = context.Request;
        if (request.ContentLength > limit)
        {
            return new RequestBody(RequestBodyOutcome.TooLarge, null, 0);
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            // The gateway enforces its own limit, with a provider-shaped 413.
            sizeFeature.MaxRequestBodySize = null;
        }

        // The buffer grows as bytes arrive, never from the declared length: fifty clients declaring 25 MiB and sending
        // nothing must not hold 1.25 GB.
        var initial = (int)Math.Clamp(request.ContentLength ?? InitialBufferBytes, 1, InitialBufferBytes);
        var buffer = ArrayPool<byte>.Shared.Rent(initial);
        if (!budget.TryReserve(buffer.Length))
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return new RequestBody(RequestBodyOutcome.OverCapacity, null, 0);
        }

        var total = 0;
        try
        {
            while (true)
            {
                if (total == buffer.Length)
                {
                    if (total > limit)
                    {
                        Return(buffer, budget);
                        return new RequestBody(RequestBodyOutcome.TooLarge, null, total);
                    }

                    var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(limit + 1, (long)buffer.Length * 2));
                    if (!budget.TryReserve(bigger.Length))
                    {
                        ArrayPool<byte>.Shared.Return(bigger);
                        Return(buffer, budget);
                        return new RequestBody(RequestBodyOutcome.OverCapacity, null, total);
                    }

                    buffer.AsSpan(0, total).CopyTo(bigger);
                    Return(buffer, budget);
                    buffer = bigger;
                }

                var read = await request.Body.ReadAsync(buffer.AsMemory(total), context.RequestAborted).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                total += read;
                if (total > limit)
                {
                    Return(buffer, budget);
                    return new RequestBody(RequestBodyOutcome.TooLarge, null, total);
                }
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status408RequestTimeout)
        {
            Return(buffer, budget);
            return new RequestBody(RequestBodyOutcome.TimedOut, null, total);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException || context.RequestAborted.IsCancellationRequested)
        {
            Return(buffer, budget);
            return new RequestBody(RequestBodyOutcome.ClientAborted, null, total);
        }

        return new RequestBody(RequestBodyOutcome.Read, buffer, total);
    }
}
