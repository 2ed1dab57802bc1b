using System.Buffers;
using System.Text;
using System.Text.Json;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Providers;

namespace LlmTrace.Domain.Security;

/// <summary>
/// Watches an SSE response while it streams: passes each complete event on, folds its text into the assembled output,
/// and every <see cref="StreamMonitorOptions.EveryTokens"/> (estimated) tokens checks the output for leaked secrets and
/// PII and for a reproduced system prompt. On a finding at or above the stop severity it ends the client's stream with
/// the provider's own finish events (OpenAI: <c>finish_reason: "content_filter"</c> then <c>[DONE]</c>; Anthropic:
/// <c>content_block_stop</c>, <c>message_delta</c> with <c>stop_reason: "refusal"</c>, <c>message_stop</c>), so the
/// client's SDK sees a normal finish, and the caller cancels the upstream call.
/// </summary>
internal sealed class StreamOutputMonitor : IDisposable
{
    private const int CharsPerToken = 4;
    private readonly ProviderKind _provider;
    private readonly string? _systemPrompt;
    private readonly StreamMonitorOptions _options;
    private readonly ResponseAccumulator _accumulator;
    private readonly PendingBytes _pending = new();
    private int _checkedLength;
    private string? _chunkId;
    private long? _created;
    private int? _openBlock;

    /// <param name="systemPrompt">The request's system and developer text (<see cref="PromptSections.Trusted"/>), to spot it in the answer.</param>
    internal StreamOutputMonitor(ProviderKind provider, string? systemPrompt, StreamMonitorOptions options)
    {
        _provider = provider;
        _systemPrompt = systemPrompt;
        _options = options;
        _accumulator = ProviderProtocol.For(provider).CreateAccumulator();
    }

    /// <summary>True once the stream was ended early; no more upstream bytes should be written.</summary>
    public bool Stopped { get; private set; }

    public List<Finding> Findings { get; } = [];

    public static bool Supports(ProviderKind provider) => ProviderStreamEnd.Supports(provider);

    /// <summary>Feeds upstream (or filtered) bytes; writes the events that may go to the client.</summary>
    public void Process(ReadOnlySpan<byte> input, IBufferWriter<byte> output)
    {
        if (Stopped)
        {
            return;
        }

        _pending.Append(input);
        var consumed = 0;
        while (!Stopped)
        {
            var end = SseReader.FindEventEnd(_pending.Span[consumed..], out var boundary);
            if (end < 0)
            {
                break;
            }

            var length = end + boundary;
            var eventBytes = _pending.Span.Slice(consumed, length);
            Observe(eventBytes);
            if (ShouldStop())
            {
                WriteFinish(output);
                Stopped = true;
            }
            else
            {
                output.Write(eventBytes);
            }

            consumed += length;
        }

        _pending.Consume(consumed);
    }

    /// <summary>Writes whatever is left when the upstream ends.</summary>
    public void Complete(IBufferWriter<byte> output)
    {
        if (!Stopped && _pending.Length > 0)
        {
            output.Write(_pending.Span);
        }

        _pending.Clear();
    }

    public void Dispose()
    {
        _pending.Dispose();
    }

    private void Observe(ReadOnlySpan<byte> eventBytes)
    {
        var reader = new SseReader(eventBytes);
        if (!reader.TryReadNext(out var data) || data.IsEmpty || data.SequenceEqual("[DONE]"u8))
        {
            return;
        }

        try
        {
            var json = new Utf8JsonReader(data);
            using var document = JsonDocument.ParseValue(ref json);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                _chunkId ??= root.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
                _created ??= root.TryGetProperty("created", out var created) && created.TryGetInt64(out var value) ? value : null;
                if (root.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String)
                {
                    var name = type.GetString();
                    var index = root.TryGetProperty("index", out var i) && i.TryGetInt32(out var n) ? n : (int?)null;
                    _openBlock = name == "content_block_start" ? index : name == "content_block_stop" ? null : _openBlock;
                }
            }

            _accumulator.OnDocument(root);
        }
        catch (JsonException)
        {
            // Not JSON: nothing to read; the event still goes through.
        }
    }

    private bool ShouldStop()
    {
        var text = _accumulator.Info.Text;
        if (text.Length - _checkedLength < _options.EveryTokens * CharsPerToken)
        {
            return false;
        }

        // Re-scan a little before the last check so a secret split across two checks is still seen whole.
        var from = Math.Max(0, _checkedLength - 256);
        if (from > 0 && char.IsLowSurrogate(text[from]))
        {
            from++; // never start the window inside a surrogate pair
        }

        var window = text.ToString(from, text.Length - from);
        _checkedLength = text.Length;
        foreach (var match in SensitiveDataDetector.Detect(window))
        {
            var severity = CaptureRedactor.Severity(match);
            if (Findings.Exists(f => f.Start == from + match.Start && f.Message == match.Kind))
            {
                continue;
            }

            Findings.Add(new Finding
            {
                Type = match.Category,
                Severity = severity,
                Confidence = 0.99,
                Location = "response",
                Detector = "stream.monitor",
                Message = match.Kind,
                Start = from + match.Start,
                Length = match.Length,
                Preview = SensitiveDataDetector.Preview(window, match),
            });
        }

        foreach (var toxic in OutputSafetyAnalyzer.Toxicity(window, "stream.monitor"))
        {
            if (!Findings.Exists(f => f.Type == toxic.Type && f.Message == toxic.Message))
            {
                Findings.Add(toxic);
            }
        }

        if (_systemPrompt is not null)
        {
            var probe = new Trace { TraceId = Guid.Empty, TenantId = Guid.Empty, Provider = "stream", Endpoint = "/", Method = "POST", Prompt = "system: " + _systemPrompt, Response = text.ToString() };
            foreach (var leak in new OutputSafetyAnalyzer().Analyze(probe))
            {
                if (!Findings.Exists(f => f.Type == leak.Type))
                {
                    Findings.Add(leak with { Detector = "stream.monitor" });
                }
            }
        }

        return _options.EarlyStop && Findings.Exists(f => f.Severity >= _options.StopSeverity);
    }

    private void WriteFinish(IBufferWriter<byte> output)
        => ProviderStreamEnd.WriteRefusal(
            _provider,
            new ProviderStreamEnd.State(_chunkId, _created, _accumulator.Info.Model, _openBlock, Math.Max(1, _accumulator.Info.Text.Length / CharsPerToken)),
            output);
}
