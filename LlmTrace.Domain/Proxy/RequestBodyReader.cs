using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace LlmTrace.Domain.Proxy;

internal enum RequestBodyOutcome
{
    Read,
    TooLarge,
    ClientAborted,
}

/// <summary>The request body read into one pooled array (return it to <see cref="ArrayPool{T}.Shared"/>).</summary>
internal readonly record struct RequestBody(RequestBodyOutcome Outcome, byte[]? Buffer, int Length);

/// <summary>
/// Reads a request body up to the gateway's limit. Request bodies are buffered (they are bounded and must be parsed,
/// and may be rewritten); responses never are.
/// </summary>
internal static class RequestBodyReader
{
    public static async Task<RequestBody> ReadAsync(HttpContext context, long limit)
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

        var initial = request.ContentLength is { } length ? (int)Math.Max(length, 1) : 16 * 1024;
        var buffer = ArrayPool<byte>.Shared.Rent(initial);
        var total = 0;
        try
        {
            while (true)
            {
                if (total == buffer.Length)
                {
                    if (total > limit)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        return new RequestBody(RequestBodyOutcome.TooLarge, null, total);
                    }

                    var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(limit + 1, (long)buffer.Length * 2));
                    buffer.AsSpan(0, total).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
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
                    ArrayPool<byte>.Shared.Return(buffer);
                    return new RequestBody(RequestBodyOutcome.TooLarge, null, total);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException || context.RequestAborted.IsCancellationRequested)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return new RequestBody(RequestBodyOutcome.ClientAborted, null, total);
        }

        return new RequestBody(RequestBodyOutcome.Read, buffer, total);
    }
}
