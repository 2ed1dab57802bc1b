using System.IO.Compression;
using System.Text;
using System.Text.Json;
using LlmTrace.Domain.Providers;

namespace LlmTrace.Domain.Capture;

/// <summary>
/// Turns a <see cref="CompletedExchange"/> into a <see cref="Trace"/>: parses the captured response (JSON or SSE,
/// compressed or not), takes the provider's usage, and falls back to the tokenizer when there is none.
/// Runs after the client has its response, off the hot path.
/// </summary>
public sealed class TraceBuilder(TokenEstimator estimator)
{
    private const int MaxDecompressedBytes = 32 * 1024 * 1024;

    internal Trace Build(CompletedExchange exchange)
    {
        var request = exchange.Request;
        var response = ReadResponse(exchange, out var parseError);
        var usageInvalid = response is not null && IsInvalidUsage(response);
        if (usageInvalid)
        {
            response!.PromptTokens = response.CompletionTokens = response.TotalTokens = null;
            response.CachedPromptTokens = response.CacheWriteTokens = response.CacheWrite1hTokens = null;
            response.UsagePartial = false;
        }

        var model = response?.Model ?? request?.Model;
        var responseText = response is { Text.Length: > 0 } ? response.Text.ToString() : null;

        int? promptTokens = response?.PromptTokens;
        int? completionTokens = response?.CompletionTokens;
        int? totalTokens = response?.TotalTokens;
        var estimated = false;
        var success = exchange.StatusCode is >= 200 and < 300;
        if (request is not null && success && response?.HasUsage != true && (request.Prompt is not null || responseText is not null))
        {
            promptTokens = estimator.CountPrompt(model, request.Prompt, request.MessageCount);
            completionTokens = estimator.CountText(model, responseText)
                + (response?.ToolCalls.Sum(c => estimator.CountText(model, c.Name) + estimator.CountText(model, c.Arguments)) ?? 0);
            totalTokens = promptTokens + completionTokens;
            estimated = true;
        }
        else if (request is not null && success && response is { UsagePartial: true })
        {
            // A stream that ended before its final usage (cut by the client, the upstream or the gateway): the opening
            // figures are kept for the prompt, and the output is estimated from what was streamed.
            completionTokens = estimator.CountText(model, responseText)
                + response.ToolCalls.Sum(c => estimator.CountText(model, c.Name) + estimator.CountText(model, c.Arguments));
            promptTokens ??= estimator.CountPrompt(model, request.Prompt, request.MessageCount);
            totalTokens = promptTokens + completionTokens;
            estimated = true;
        }
        else if (totalTokens is null && (promptTokens is not null || completionTokens is not null))
        {
            totalTokens = (promptTokens ?? 0) + (completionTokens ?? 0);
        }

        var toolCalls = new List<ToolCall>();
        if (request is not null)
        {
            toolCalls.AddRange(request.ToolCalls);
        }

        if (response is not null)
        {
            toolCalls.AddRange(response.ToolCalls);
        }

        var error = exchange.Error;
        if (error is null && !success && exchange.StatusCode != 0)
        {
            error = $"upstream_status_{exchange.StatusCode}";
            if (response?.ParseError is { } upstreamMessage)
            {
                error += ": " + Truncate(upstreamMessage, 500);
            }
        }

        return new Trace
        {
            TraceId = exchange.TraceId,
            TenantId = exchange.TenantId,
            AgentId = exchange.AgentId,
            Provider = exchange.Provider.ToWireName(),
            Model = model,
            Endpoint = exchange.Endpoint,
            Operation = request?.Operation,
            Method = exchange.Method,
            StatusCode = exchange.StatusCode,
            Streaming = request?.Streaming == true || IsEventStream(exchange.ResponseContentType),
            StartedAt = DateTimeOffset.FromUnixTimeMilliseconds(exchange.StartedAt.ToUnixTimeMilliseconds()),
            DurationMs = Math.Round(exchange.DurationMs, 3),
            TtftMs = exchange.TtftMs is { } ttft ? Math.Round(ttft, 3) : null,
            PromptTokens = promptTokens,
            CompletionTokens = completionTokens,
            TotalTokens = totalTokens,
            CachedPromptTokens = estimated && response?.UsagePartial != true ? null : response?.CachedPromptTokens,
            CacheWriteTokens = estimated && response?.UsagePartial != true ? null : NullIfZero(response?.CacheWriteTokens),
            CacheWrite1hTokens = estimated && response?.UsagePartial != true ? null : NullIfZero(response?.CacheWrite1hTokens),
            UsageEstimated = estimated,
            UsageInvalid = usageInvalid,
            Prompt = request?.Prompt,
            Segments = request?.Segments,
            GuardCoverage = exchange.GuardCoverage,
            Backend = exchange.Backend,
            Attempts = exchange.Attempts,
            Response = success ? responseText : null,
            ToolCalls = toolCalls,
            RequestBytes = exchange.RequestBytes,
            ResponseBytes = exchange.ResponseBytes,
            CaptureTruncated = exchange.Response?.Truncated == true,
            ClientCancelled = exchange.ClientCancelled,
            Error = error,
            ParseError = request?.ParseError ?? (success ? parseError : null),
            UsageInjected = exchange.UsageInjected,
            FinishReason = response?.FinishReason,
            Findings = [.. exchange.GuardFindings, .. exchange.StreamFindings],
            GuardAnalysis = exchange.GuardAnalysis,
        };
    }

    /// <summary>
    /// What is known of a call as it is forwarded, without its text: the trace recovery records if the process dies
    /// before the call completes (<see cref="ICaptureQueue.Started"/>).
    /// </summary>
    internal static Trace BuildStarted(CompletedExchange exchange) => new()
    {
        TraceId = exchange.TraceId,
        TenantId = exchange.TenantId,
        AgentId = exchange.AgentId,
        Provider = exchange.Provider.ToWireName(),
        Model = exchange.Request?.Model,
        Endpoint = exchange.Endpoint,
        Operation = exchange.Request?.Operation,
        Method = exchange.Method,
        Streaming = exchange.Request?.Streaming == true,
        StartedAt = DateTimeOffset.FromUnixTimeMilliseconds(exchange.StartedAt.ToUnixTimeMilliseconds()),
        RequestBytes = exchange.RequestBytes,
        Error = InterruptedError,
        GuardAnalysis = exchange.GuardAnalysis,
        GuardCoverage = exchange.GuardCoverage,
    };

    /// <summary>The error of a call the gateway forwarded but never saw complete: the process died in between.</summary>
    public const string InterruptedError = "gateway_interrupted";

    private static ResponseInfo? ReadResponse(CompletedExchange exchange, out string? parseError)
    {
        parseError = null;
        var capture = exchange.Response;
        if (capture is null || capture.TotalBytes == 0)
        {
            return null;
        }

        var accumulator = ProviderProtocol.For(exchange.Provider).CreateAccumulator();
        var success = exchange.StatusCode is >= 200 and < 300;
        var head = capture.Head;
        byte[]? decompressed = null;
        if (!string.IsNullOrEmpty(exchange.ResponseContentEncoding) && !exchange.ResponseContentEncoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            if (capture.Truncated)
            {
                parseError = "compressed response larger than the capture limit";
                return accumulator.Info;
            }

            decompressed = Decompress(head, exchange.ResponseContentEncoding);
            if (decompressed is null)
            {
                parseError = $"response content-encoding '{exchange.ResponseContentEncoding}' could not be decoded";
                return accumulator.Info;
            }

            head = decompressed;
        }

        if (IsEventStream(exchange.ResponseContentType))
        {
            var reader = new SseReader(head);
            var bad = 0;
            while (reader.TryReadNext(out var data, includePartial: !capture.Truncated))
            {
                bad += Feed(accumulator, data) ? 0 : 1;
            }

            if (capture.Truncated && decompressed is null)
            {
                // The usage events sit at the end: read the complete events of the kept tail.
                var tail = capture.CopyTail();
                var start = SseReader.FindEventEnd(tail, out var boundary);
                if (start >= 0)
                {
                    var tailReader = new SseReader(tail.AsSpan(start + boundary));
                    while (tailReader.TryReadNext(out var data))
                    {
                        if (data.IndexOf("usage"u8) >= 0 || data.IndexOf("message_delta"u8) >= 0 || data.IndexOf("response.completed"u8) >= 0)
                        {
                            Feed(accumulator, data);
                        }
                    }
                }
            }

            if (bad > 0)
            {
                parseError = $"{bad} stream event(s) were not valid JSON";
            }
        }
        else
        {
            if (capture.Truncated && decompressed is null)
            {
                parseError = "response larger than the capture limit; text not parsed";
                ReadUsageFromTail(accumulator, capture.CopyTail());
            }
            else if (!Feed(accumulator, head, captureErrorMessage: !success) && success)
            {
                parseError = "response body is not valid JSON";
            }
            else if (!success)
            {
                // Keep the provider's error message to explain the failure.
                parseError = accumulator.Info.ParseError;
            }
        }

        accumulator.Complete();
        if (accumulator.Info.InvalidUtf8 && parseError is null)
        {
            parseError = "response is not valid UTF-8 (stored with U+FFFD in place of the invalid bytes)";
        }

        return accumulator.Info;
    }

    /// <summary>More tokens than any model reads or writes in one call: a broken or hostile upstream, not usage.</summary>
    internal const int MaxPlausibleTokens = 100_000_000;

    /// <summary>
    /// Usage an upstream reported that cannot be true (a negative count, an absurd one, more cached than prompt tokens).
    /// It is not stored or billed: the call is estimated instead and marked <see cref="Trace.UsageInvalid"/>.
    /// </summary>
    internal static bool IsInvalidUsage(ResponseInfo response)
    {
        static bool Bad(int? value) => value is < 0 or > MaxPlausibleTokens;
        return Bad(response.PromptTokens) || Bad(response.CompletionTokens) || Bad(response.TotalTokens) || Bad(response.CachedPromptTokens)
            || Bad(response.CacheWriteTokens) || Bad(response.CacheWrite1hTokens)
            || (response.PromptTokens is { } prompt && (response.CachedPromptTokens ?? 0) + (response.CacheWriteTokens ?? 0) > prompt);
    }

    private static bool Feed(ResponseAccumulator accumulator, ReadOnlySpan<byte> json, bool captureErrorMessage = false)
    {
        if (json.IsEmpty || json.SequenceEqual("[DONE]"u8))
        {
            return true;
        }

        if (!System.Text.Unicode.Utf8.IsValid(json))
        {
            // The client got the bytes as sent; the trace keeps the text with U+FFFD, so the call is still recorded and billed.
            json = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(json));
            accumulator.Info.InvalidUtf8 = true;
        }

        try
        {
            var reader = new Utf8JsonReader(json);
            using var document = JsonDocument.ParseValue(ref reader);
            if (captureErrorMessage)
            {
                accumulator.Info.ParseError = ResponseAccumulator.ReadErrorMessage(document.RootElement);
                return true;
            }

            accumulator.OnDocument(document.RootElement);
            return true;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException or FormatException or OverflowException)
        {
            return false;
        }
    }

    /// <summary>A JSON body too large to keep whole (a big embeddings batch): find the usage object in its tail.</summary>
    private static void ReadUsageFromTail(ResponseAccumulator accumulator, byte[] tail)
    {
        foreach (var key in (ReadOnlySpan<string>)["usage", "usageMetadata"])
        {
            var quoted = Encoding.ASCII.GetBytes($"\"{key}\"");
            var at = tail.AsSpan().LastIndexOf(quoted);
            if (at < 0)
            {
                continue;
            }

            var rest = tail.AsSpan(at + quoted.Length).TrimStart(" \t\r\n"u8);
            if (rest.IsEmpty || rest[0] != ':')
            {
                continue;
            }

            try
            {
                var reader = new Utf8JsonReader(rest[1..], isFinalBlock: false, state: default);
                using var usage = JsonDocument.ParseValue(ref reader);
                using var document = JsonDocument.Parse($"{{\"{key}\":{usage.RootElement.GetRawText()}}}");
                accumulator.OnDocument(document.RootElement);
                return;
            }
            catch (JsonException)
            {
                // The usage object was cut by the capture limit as well; the estimator fills in.
            }
        }
    }

    private static byte[]? Decompress(ReadOnlySpan<byte> data, string encoding)
    {
        using var input = new MemoryStream(data.ToArray(), writable: false);
        using Stream? decoder = encoding.Trim().ToLowerInvariant() switch
        {
            "gzip" => new GZipStream(input, CompressionMode.Decompress),
            "deflate" => new ZLibStream(input, CompressionMode.Decompress),
            "br" => new BrotliStream(input, CompressionMode.Decompress),
            _ => null,
        };
        if (decoder is null)
        {
            return null;
        }

        using var output = new MemoryStream();
        try
        {
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = decoder.Read(buffer)) > 0)
            {
                if (output.Length + read > MaxDecompressedBytes)
                {
                    return null;
                }

                output.Write(buffer, 0, read);
            }
        }
        catch (InvalidDataException)
        {
            return null;
        }

        return output.ToArray();
    }

    internal static bool IsEventStream(string? contentType)
        => contentType is not null && contentType.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase);

    private static int? NullIfZero(int? value) => value is 0 ? null : value;

    private static string Truncate(string value, int max) => value.Length <= max ? value : value[..max];
}
