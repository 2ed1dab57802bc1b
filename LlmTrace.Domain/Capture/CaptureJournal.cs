using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Capture;

/// <summary>How far a journal write must go before the call's handler completes.</summary>
public enum JournalDurability
{
    /// <summary>No journal: a crash loses the traces still in the in-process queue.</summary>
    Off,

    /// <summary>Written to the operating system: survives a crash or kill of the process, not of the machine.</summary>
    Process,

    /// <summary>Written and flushed to the disk (fsync), group-committed: survives a power loss too.</summary>
    Machine,
}

/// <summary>
/// The append-only capture journal of a single-process host. Each trace is appended (length, CRC-32, JSON) before the
/// call's handler completes; concurrent appends share one write and one flush (group commit). The consumer
/// acknowledges traces once they are processed and stored; a segment whose traces are all acknowledged is deleted. At
/// start-up, the traces of the segments left behind are read back (a torn last record is ignored) and processed again:
/// every stage is idempotent by trace id, so a call ends up in the trace store and the spend ledger exactly once.
/// </summary>
internal sealed class CaptureJournal : IAsyncDisposable
{
    private const string Prefix = "capture-";
    private const string Extension = ".journal";
    /// <summary>A record is its body's length and CRC-32, then the body: a kind byte and the trace's JSON.</summary>
    private const int PrefixBytes = 8;
    private const int HeaderBytes = PrefixBytes + 1;
    private const byte Completed = 1;
    private const byte Started = 2;

    /// <summary>The serializer's own writer settings for the context (no indentation, its encoder).</summary>
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = CaptureJsonContext.Default.Options.Encoder,
        Indented = false,
        SkipValidation = true,
    };

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    private readonly JournalOptions _options;
    private readonly ILogger<CaptureJournal> _logger;
    private readonly Channel<Pending> _pending = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<(Guid TraceId, bool Started), Segment> _segmentOf = [];
    private readonly Lock _gate = new();
    private readonly Task _writer;
    private Segment? _current;
    private FileStream? _file;
    private long _sequence;

    public CaptureJournal(IOptions<JournalOptions> options, ILogger<CaptureJournal> logger)
    {
        _options = options.Value;
        _logger = logger;
        if (!Enabled)
        {
            _writer = Task.CompletedTask;
            return;
        }

        Directory.CreateDirectory(_options.Directory);
        _sequence = Directory.EnumerateFiles(_options.Directory, Prefix + "*" + Extension).Select(SequenceOf).DefaultIfEmpty(0).Max();
        _writer = Task.Run(WriteLoopAsync);
    }

    public bool Enabled => _options.Durability != JournalDurability.Off;

    public JournalDurability Durability => _options.Durability;

    /// <summary>Traces appended and not yet acknowledged.</summary>
    public int Outstanding
    {
        get
        {
            lock (_gate)
            {
                return _segmentOf.Count;
            }
        }
    }

    /// <summary>Appends a trace; completes once it is as durable as <see cref="JournalOptions.Durability"/> asks.</summary>
    /// <param name="started">
    /// The note of a call about to be forwarded (no text, see <see cref="ICaptureQueue.Started"/>). If no completed
    /// trace follows it before a crash, recovery records the call as interrupted.
    /// </param>
    public Task AppendAsync(Trace trace, CancellationToken cancellationToken, bool started = false)
    {
        if (!Enabled)
        {
            return Task.CompletedTask;
        }

        var pending = new Pending(trace.TraceId, started, Encode(trace, started));
        if (!_pending.Writer.TryWrite(pending))
        {
            pending.Record.Dispose();
            throw new ObjectDisposedException(nameof(CaptureJournal));
        }

        return pending.Done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// One record in a pooled buffer, serialized in place behind its header (the writer loop returns the buffer once the
    /// record is written): on the request path, an append costs no allocation that grows with the trace.
    /// </summary>
    private static PendingBytes Encode(Trace trace, bool started)
    {
        var record = new PendingBytes();
        record.Advance(HeaderBytes);
        var writer = t_writer ??= new Utf8JsonWriter(record, WriterOptions);
        writer.Reset(record);
        try
        {
            JsonSerializer.Serialize(writer, trace, CaptureJsonContext.Default.Trace);
        }
        catch
        {
            record.Dispose();
            throw;
        }
        finally
        {
            writer.Reset(Stream.Null); // the thread's writer must not keep the buffer alive
        }

        var bytes = record.WrittenSpan;
        BinaryPrimitives.WriteInt32LittleEndian(bytes, bytes.Length - PrefixBytes);
        bytes[PrefixBytes] = started ? Started : Completed;
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[4..], Crc32.HashToUInt32(bytes[PrefixBytes..]));
        return record;
    }

    /// <summary>These traces are processed and stored: their segments may go once nothing in them is outstanding.</summary>
    public void Acknowledge(IEnumerable<Guid> traceIds)
    {
        List<Segment>? done = null;
        lock (_gate)
        {
            foreach (var id in traceIds)
            {
                foreach (var started in (ReadOnlySpan<bool>)[false, true])
                {
                    if (_segmentOf.Remove((id, started), out var segment) && --segment.Outstanding == 0 && segment.Sealed)
                    {
                        (done ??= []).Add(segment);
                    }
                }
            }
        }

        foreach (var segment in done ?? [])
        {
            TryDelete(segment.Path);
        }
    }

    /// <summary>
    /// The traces of the segments a previous run left behind, each once: its completed trace, or, for a call that was
    /// forwarded but never completed, its started note (an interrupted call). They count as outstanding until
    /// acknowledged. Call once, at start-up, before the first append.
    /// </summary>
    public IReadOnlyList<Trace> Recover()
    {
        if (!Enabled)
        {
            return [];
        }

        var completed = new Dictionary<Guid, Trace>();
        var interrupted = new Dictionary<Guid, Trace>();
        foreach (var path in Directory.EnumerateFiles(_options.Directory, Prefix + "*" + Extension).OrderBy(SequenceOf))
        {
            var segment = new Segment(path) { Sealed = true };
            var (records, torn) = Read(path);
            if (torn)
            {
                _logger.JournalTornRecord(Path.GetFileName(path));
            }

            lock (_gate)
            {
                foreach (var (trace, started) in records)
                {
                    (started ? interrupted : completed).TryAdd(trace.TraceId, trace);
                    if (_segmentOf.TryAdd((trace.TraceId, started), segment))
                    {
                        segment.Outstanding++;
                    }
                }
            }

            if (segment.Outstanding == 0)
            {
                TryDelete(path);
            }
        }

        var traces = completed.Values.Concat(interrupted.Values.Where(t => !completed.ContainsKey(t.TraceId))).ToList();
        if (traces.Count > 0)
        {
            _logger.JournalRecovered(traces.Count);
        }

        return traces;
    }

    public async ValueTask DisposeAsync()
    {
        _pending.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
        if (_file is not null)
        {
            await _file.DisposeAsync().ConfigureAwait(false);
        }

        // A last segment with nothing outstanding is not needed by the next start.
        lock (_gate)
        {
            if (_current is { Outstanding: 0 })
            {
                TryDelete(_current.Path);
            }
        }
    }

    /// <summary>The complete records of a segment; a record cut short or failing its checksum ends it (torn by a crash).</summary>
    private static (List<(Trace Trace, bool Started)> Records, bool Torn) Read(string path)
    {
        var records = new List<(Trace, bool)>();
        var bytes = File.ReadAllBytes(path);
        var offset = 0;
        while (offset + HeaderBytes <= bytes.Length)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(offset));
            var crc = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset + 4));
            if (length <= 1 || offset + PrefixBytes + length > bytes.Length)
            {
                return (records, true);
            }

            var body = bytes.AsSpan(offset + PrefixBytes, length);
            if (Crc32.HashToUInt32(body) != crc || body[0] is not (Completed or Started))
            {
                return (records, true);
            }

            try
            {
                records.Add((JsonSerializer.Deserialize(body[1..], CaptureJsonContext.Default.Trace)!, body[0] == Started));
            }
            catch (JsonException)
            {
                return (records, true);
            }

            offset += PrefixBytes + length;
        }

        return (records, offset != bytes.Length);
    }

    private async Task WriteLoopAsync()
    {
        var group = new List<Pending>();
        var reader = _pending.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (group.Count < 4096 && reader.TryRead(out var next))
            {
                group.Add(next);
            }

            try
            {
                WriteGroup(group);
                foreach (var item in group)
                {
                    item.Done.TrySetResult();
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A full disk or a lost volume: the caller decides; the trace still goes on through the in-process queue.
                _logger.JournalWriteFailed(group.Count, ex);
                foreach (var item in group)
                {
                    item.Done.TrySetException(ex);
                }

                await ResetAsync().ConfigureAwait(false);
            }

            foreach (var item in group)
            {
                item.Record.Dispose();
            }

            group.Clear();
        }
    }

    private void WriteGroup(List<Pending> group)
    {
        if (_file is null || _file.Length >= _options.SegmentBytes)
        {
            Rotate();
        }

        foreach (var item in group)
        {
            _file!.Write(item.Record.Span);
        }

        // Process: the bytes reach the operating system, which keeps them if the process dies. Machine: and the disk.
        _file!.Flush(flushToDisk: _options.Durability == JournalDurability.Machine);
        lock (_gate)
        {
            foreach (var item in group)
            {
                if (_segmentOf.TryAdd((item.TraceId, item.Started), _current!))
                {
                    _current!.Outstanding++;
                }
            }
        }
    }

    private void Rotate()
    {
        _file?.Dispose();
        List<Segment>? done = null;
        lock (_gate)
        {
            if (_current is not null)
            {
                _current.Sealed = true;
                if (_current.Outstanding == 0)
                {
                    (done ??= []).Add(_current);
                }
            }

            _current = new Segment(Path.Combine(_options.Directory, $"{Prefix}{++_sequence:D12}{Extension}"));
        }

        foreach (var segment in done ?? [])
        {
            TryDelete(segment.Path);
        }

        _file = new FileStream(_current.Path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 64 * 1024);
    }

    /// <summary>After a failed write the segment may end in a partial record: start a new one next time.</summary>
    private async Task ResetAsync()
    {
        if (_file is not null)
        {
            try
            {
                await _file.DisposeAsync().ConfigureAwait(false);
            }
            catch (IOException)
            {
                // Nothing more can be saved in this segment.
            }

            _file = null;
        }
    }

    private void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException ex)
        {
            _logger.JournalDeleteFailed(Path.GetFileName(path), ex);
        }
    }

    private static long SequenceOf(string path)
        => long.TryParse(Path.GetFileNameWithoutExtension(path).AsSpan(Prefix.Length), out var sequence) ? sequence : 0;

    private sealed class Segment(string path)
    {
        public string Path { get; } = path;

        public int Outstanding { get; set; }

        public bool Sealed { get; set; }
    }

    private sealed record Pending(Guid TraceId, bool Started, PendingBytes Record)
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>The capture journal of a single-process host. Bound from <c>LlmTrace:Capture:Journal</c>.</summary>
public sealed class JournalOptions
{
    public const string SectionName = "LlmTrace:Capture:Journal";

    /// <summary>Where the segments live. SelfHost puts it next to its database unless set.</summary>
    [System.ComponentModel.DataAnnotations.Required]
    public string Directory { get; set; } = ".llmtrace/journal";

    public JournalDurability Durability { get; set; } = JournalDurability.Process;

    /// <summary>A segment is closed and a new one started past this size.</summary>
    [System.ComponentModel.DataAnnotations.Range(64 * 1024, 1024 * 1024 * 1024)]
    public long SegmentBytes { get; set; } = 16 * 1024 * 1024;
}

[OptionsValidator]
internal sealed partial class JournalOptionsValidator : IValidateOptions<JournalOptions>;
