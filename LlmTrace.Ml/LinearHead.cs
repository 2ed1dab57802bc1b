using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmTrace.Ml;

/// <summary>
/// A logistic-regression head over sentence embeddings, with the provenance of its training: the embedding model, the
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

    public double Score(ReadOnlySpan<float> embedding)
    {
        var z = (double)Bias;
        for (var i = 0; i < Weights.Length; i++)
        {
            z += Weights[i] * embedding[i];
        }

        return 1 / (1 + Math.Exp(-z));
    }

    /// <summary>Fits the head with full-batch gradient descent on the log loss, L2-regularised, classes weighted to balance.</summary>
    public static (float Bias, float[] Weights) Fit(IReadOnlyList<float[]> x, IReadOnlyList<bool> y, int epochs = 400, double learningRate = 0.5, double l2 = 1e-4)
    {
        var dimension = x[0].Length;
        var weights = new double[dimension];
        var bias = 0.0;
        var positives = y.Count(v => v);
        var positiveWeight = y.Count / (2.0 * Math.Max(1, positives));
        var negativeWeight = y.Count / (2.0 * Math.Max(1, y.Count - positives));
        var gradient = new double[dimension];
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            Array.Clear(gradient);
            var biasGradient = 0.0;
            for (var n = 0; n < x.Count; n++)
            {
                var z = bias;
                for (var i = 0; i < dimension; i++)
                {
                    z += weights[i] * x[n][i];
                }

                var p = 1 / (1 + Math.Exp(-z));
                var error = (p - (y[n] ? 1 : 0)) * (y[n] ? positiveWeight : negativeWeight);
                for (var i = 0; i < dimension; i++)
                {
                    gradient[i] += error * x[n][i];
                }

                biasGradient += error;
            }

            for (var i = 0; i < dimension; i++)
            {
                weights[i] -= learningRate * ((gradient[i] / x.Count) + (l2 * weights[i]));
            }

            bias -= learningRate * biasGradient / x.Count;
        }

        return ((float)bias, [.. weights.Select(w => (float)w)]);
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
