using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using LlmTrace.Domain.Capture;

namespace LlmTrace.Domain.Processing;

/// <summary>The queue message: the trace itself, or a claim check pointing at it when it is too large for the queue.</summary>
internal sealed record CaptureMessage
{
    public int Version { get; init; } = 1;

    public Guid TraceId { get; init; }

    public Trace? Trace { get; init; }

    /// <summary>Reference into the <see cref="IClaimCheckStore"/> when the trace did not fit.</summary>
    public string? ClaimCheck { get; init; }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CaptureMessage))]
internal sealed partial class CaptureMessageJsonContext : JsonSerializerContext;

/// <summary>
/// Encodes traces for the queues and back. A trace whose JSON is over <paramref name="inlineLimitBytes"/> goes to the
/// claim-check store (Storage Queues hold 64 KiB, about 48 KiB of JSON once Base64-encoded; Service Bus standard 256 KiB).
/// </summary>
public sealed class CaptureMessageCodec(IClaimCheckStore claimChecks, int inlineLimitBytes = CaptureMessageCodec.StorageQueueInlineLimit)
{
    /// <summary>Leaves room for the envelope and Base64 growth within a 64 KiB Storage Queue message.</summary>
    public const int StorageQueueInlineLimit = 45 * 1024;

    public async Task<string> EncodeAsync(Trace trace, CancellationToken cancellationToken)
    {
        var inline = JsonSerializer.Serialize(new CaptureMessage { TraceId = trace.TraceId, Trace = trace }, CaptureMessageJsonContext.Default.CaptureMessage);
        if (Encoding.UTF8.GetByteCount(inline) <= inlineLimitBytes)
        {
            return inline;
        }

        var payload = JsonSerializer.SerializeToUtf8Bytes(trace, CaptureJsonContext.Default.Trace);
        var reference = await claimChecks.PutAsync($"{trace.TraceId:N}.json", payload, cancellationToken).ConfigureAwait(false);
        return JsonSerializer.Serialize(
            new CaptureMessage { TraceId = trace.TraceId, ClaimCheck = reference }, CaptureMessageJsonContext.Default.CaptureMessage);
    }

    /// <summary>Reads a message back into its trace, loading a claim check if there is one.</summary>
    /// <exception cref="InvalidDataException">The message is not one this codec wrote; it belongs in the poison queue.</exception>
    public async Task<(Trace Trace, string? ClaimCheck)> DecodeAsync(string message, CancellationToken cancellationToken)
    {
        CaptureMessage? envelope;
        try
        {
            envelope = JsonSerializer.Deserialize(message, CaptureMessageJsonContext.Default.CaptureMessage);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException("The queue message is not a capture message.", ex);
        }

        if (envelope?.Trace is { } trace)
        {
            return (trace, null);
        }

        if (envelope?.ClaimCheck is { } reference)
        {
            var payload = await claimChecks.GetAsync(reference, cancellationToken).ConfigureAwait(false);
            return (JsonSerializer.Deserialize(payload, CaptureJsonContext.Default.Trace)
                ?? throw new InvalidDataException("The claim-checked trace is empty."), reference);
        }

        throw new InvalidDataException("The capture message has neither a trace nor a claim check.");
    }
}
