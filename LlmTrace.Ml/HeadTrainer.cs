namespace LlmTrace.Ml;

/// <summary>One training example: the sentence embedding, the sparse lexical features, and whether it is an attack.</summary>
public sealed record TrainingExample(float[] Embedding, int[] Indices, float[] Values, bool IsAttack);

/// <summary>
/// Fits a logistic-regression head over the embedding and the hashed lexical features: full-batch Adam on the log loss,
/// classes weighted to balance, L2-regularised. Deterministic: the same examples give the same weights.
/// </summary>
public static class HeadTrainer
{
    public static (float Bias, float[] Dense, float[] Sparse) Fit(
        IReadOnlyList<TrainingExample> examples,
        double l2,
        bool useEmbedding = true,
        bool useLexical = true,
        int epochs = 300,
        double learningRate = 0.05)
    {
        var dense = examples[0].Embedding.Length;
        var size = 1 + dense + LexicalFeatures.Buckets;
        var w = new double[size];
        var m = new double[size];
        var v = new double[size];
        var g = new double[size];
        var positives = examples.Count(e => e.IsAttack);
        var positiveWeight = examples.Count / (2.0 * Math.Max(1, positives));
        var negativeWeight = examples.Count / (2.0 * Math.Max(1, examples.Count - positives));
        const double Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8;
        for (var epoch = 1; epoch <= epochs; epoch++)
        {
            Array.Clear(g);
            foreach (var example in examples)
            {
                var z = Logit(w, example, useEmbedding, useLexical);
                var p = 1 / (1 + Math.Exp(-z));
                var error = (p - (example.IsAttack ? 1 : 0)) * (example.IsAttack ? positiveWeight : negativeWeight) / examples.Count;
                g[0] += error;
                if (useEmbedding)
                {
                    for (var i = 0; i < dense; i++)
                    {
                        g[1 + i] += error * example.Embedding[i];
                    }
                }

                if (useLexical)
                {
                    for (var i = 0; i < example.Indices.Length; i++)
                    {
                        g[1 + dense + example.Indices[i]] += error * example.Values[i];
                    }
                }
            }

            var correction1 = 1 - Math.Pow(Beta1, epoch);
            var correction2 = 1 - Math.Pow(Beta2, epoch);
            for (var i = 0; i < size; i++)
            {
                var gradient = g[i] + (i == 0 ? 0 : l2 * w[i]);
                m[i] = (Beta1 * m[i]) + ((1 - Beta1) * gradient);
                v[i] = (Beta2 * v[i]) + ((1 - Beta2) * gradient * gradient);
                w[i] -= learningRate * (m[i] / correction1) / (Math.Sqrt(v[i] / correction2) + Epsilon);
            }
        }

        return ((float)w[0], [.. w.AsSpan(1, dense).ToArray().Select(x => (float)x)], [.. w.AsSpan(1 + dense).ToArray().Select(x => (float)x)]);
    }

    private static double Logit(double[] w, TrainingExample example, bool useEmbedding, bool useLexical)
    {
        var dense = example.Embedding.Length;
        var z = w[0];
        if (useEmbedding)
        {
            for (var i = 0; i < dense; i++)
            {
                z += w[1 + i] * example.Embedding[i];
            }
        }

        if (useLexical)
        {
            for (var i = 0; i < example.Indices.Length; i++)
            {
                z += w[1 + dense + example.Indices[i]] * example.Values[i];
            }
        }

        return z;
    }

    public static double Score(float bias, float[] dense, float[] sparse, float[] embedding, int[] indices, float[] values)
    {
        var z = (double)bias;
        for (var i = 0; i < dense.Length; i++)
        {
            z += dense[i] * embedding[i];
        }

        for (var i = 0; i < indices.Length; i++)
        {
            z += sparse[indices[i]] * values[i];
        }

        return 1 / (1 + Math.Exp(-z));
    }
}
