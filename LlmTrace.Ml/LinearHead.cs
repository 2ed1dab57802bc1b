using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmTrace.Ml;

/// <summary>
/// A logistic-regression head over a sentence embedding and hashed lexical features, with the provenance of its training: the embedding model, the
/// SHA-256 of the data file, the split it was fitted on, and the command that reproduces it.
/// </summary>
public sealed record LinearHead
{
    public required string Embedding { get; init; }

    public required string DataSha256 { get; init; }

    public string Split { get; init; } = "train";

    public required string Command { get; init; }

    public required double Threshold { get; init; }

    public required float Bias { get; init; }

    public required float[] Weights { get; init; }

    /// <summary>
    /// The weights of the hashed lexical features (<see cref="Ml.LexicalFeatures"/>), base64 of little-endian float32, or
    /// null for an embedding-only head.
    /// </summary>
    public string? LexicalWeights { get; init; }

    /// <summary>How the threshold was chosen, and the cross-validated figures it was chosen on.</summary>
    public string? ThresholdRule { get; init; }

    /// <summary>The decoded lexical weights, one per hash bucket; decoded once per <see cref="LexicalWeights"/> value.</summary>
    [JsonIgnore]
    public float[]? Lexical
    {
        get
        {
            var source = LexicalWeights;
            if (source is null)
            {
                return null;
            }

            // Keyed by the string it came from, so a copy made with `with { LexicalWeights = … }` never sees stale weights.
            if (_lexical is { } cached && ReferenceEquals(cached.Source, source))
            {
                return cached.Weights;
            }

            var bytes = Convert.FromBase64String(source);
            if (bytes.Length != LexicalFeatures.Buckets * sizeof(float))
            {
                throw new InvalidOperationException($"The head's lexical weights hold {bytes.Length} bytes; {LexicalFeatures.Buckets} float32 weights ({LexicalFeatures.Buckets * sizeof(float)} bytes) were expected.");
            }

            var weights = MemoryMarshal.Cast<byte, float>(bytes).ToArray();
            _lexical = (source, weights);
            return weights;
        }
    }

    private (string Source, float[] Weights)? _lexical;

    /// <summary>The probability that the text is an attack, from its embedding and, if the head has them, its lexical features.</summary>
    public double Score(ReadOnlySpan<float> embedding, string text)
    {
        var z = Logit(embedding);
        if (Lexical is { } lexical)
        {
            var (indices, values) = Ml.LexicalFeatures.Extract(text);
            for (var i = 0; i < indices.Length; i++)
            {
                z += lexical[indices[i]] * values[i];
            }
        }

        return 1 / (1 + Math.Exp(-z));
    }

    /// <summary>The embedding part of the head alone: what an ONNX export of the head computes.</summary>
    public double ScoreEmbedding(ReadOnlySpan<float> embedding) => 1 / (1 + Math.Exp(-Logit(embedding)));

    public static string EncodeWeights(float[] weights) => Convert.ToBase64String(MemoryMarshal.AsBytes(weights.AsSpan()));

    private double Logit(ReadOnlySpan<float> embedding)
    {
        var z = (double)Bias;
        for (var i = 0; i < Weights.Length; i++)
        {
            z += Weights[i] * embedding[i];
        }

        return z;
    }

    public static LinearHead LoadEmbedded()
    {
        using var stream = typeof(LinearHead).Assembly.GetManifestResourceStream("LlmTrace.Ml.injection-head.json")
            ?? throw new InvalidOperationException("The trained head is missing; run tools/LlmTrace.SecurityEval --train.");
        return JsonSerializer.Deserialize(stream, HeadJsonContext.Default.LinearHead)!;
    }

    public static LinearHead FromJson(string json) => JsonSerializer.Deserialize(json, HeadJsonContext.Default.LinearHead)!;

    public string ToJson() => JsonSerializer.Serialize(this, HeadJsonContext.Default.LinearHead);
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(LinearHead))]
internal sealed partial class HeadJsonContext : JsonSerializerContext;
