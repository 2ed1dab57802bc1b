using System.Globalization;
using System.Text;
using LlmTrace.Domain.Security;
using LlmTrace.Ml;

/// <summary>
/// Model selection on the train split only: k-fold cross-validation gives every train row a score from a head that did
/// not see it, and the thresholds and settings are chosen on those out-of-fold scores. No test row is read.
/// </summary>
internal static class CrossValidation
{
    public const int Folds = 5;

    public static int FoldOf(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 16777619;
        }

        return (int)(hash % Folds);
    }

    /// <summary>Out-of-fold scores for each example.</summary>
    public static double[] OutOfFold(IReadOnlyList<TrainingExample> examples, IReadOnlyList<int> folds, Func<IReadOnlyList<TrainingExample>, Func<TrainingExample, double>> fit)
    {
        var scores = new double[examples.Count];
        for (var fold = 0; fold < Folds; fold++)
        {
            var training = examples.Where((_, i) => folds[i] != fold).ToList();
            var model = fit(training);
            for (var i = 0; i < examples.Count; i++)
            {
                if (folds[i] == fold)
                {
                    scores[i] = model(examples[i]);
                }
            }
        }

        return scores;
    }

    /// <summary>The lowest threshold whose false-positive rate on the benign scores is at most <paramref name="rate"/>.</summary>
    public static double ThresholdAt(IEnumerable<double> benignScores, double rate)
    {
        var sorted = benignScores.OrderDescending().ToList();
        var allowed = (int)Math.Floor(sorted.Count * rate);
        return allowed >= sorted.Count ? 0 : sorted[allowed] + 1e-6;
    }

    public static List<TrainingExample> Examples(IReadOnlyList<Row> rows, IReadOnlyList<float[]> embeddings)
        => [.. rows.Select((r, i) =>
        {
            var (indices, values) = LexicalFeatures.Extract(r.Text);
            return new TrainingExample(embeddings[i], indices, values, r.Label != "benign");
        })];

    public static void Run(IReadOnlyList<Row> rows, IReadOnlyList<float[]> embeddings)
    {
        var rules = new PromptInjectionDetector();
        var examples = Examples(rows, embeddings);
        var folds = rows.Select(r => FoldOf(r.Text)).ToList();
        var rulesScores = rows.Select(r => rules.Evaluate(r.Text).Score).ToList();
        var benign = rows.Count(r => r.Label == "benign");
        Console.WriteLine("rules" + Metrics(rows, i => rulesScores[i] >= PromptInjectionDetector.DefaultThreshold, ""));
        Console.WriteLine($"{rows.Count} train rows, {rows.Count - benign} attacks, {benign} benign; {Folds} folds.");

        var variants = new List<(string Name, bool Embedding, bool Lexical, double L2, int Epochs)>();
        foreach (var spec in (Environment.GetEnvironmentVariable("CV_VARIANTS") ?? "both:1e-4:300").Split(','))
        {
            var parts = spec.Split(':');
            var l2 = double.Parse(parts[1], CultureInfo.InvariantCulture);
            variants.Add((spec, parts[0] is "both" or "embedding", parts[0] is "both" or "lexical", l2, int.Parse(parts[2], CultureInfo.InvariantCulture)));
        }

        foreach (var (name, useEmbedding, useLexical, l2, epochs) in variants)
        {
            var scores = OutOfFold(examples, folds, training =>
            {
                var (bias, dense, sparse) = HeadTrainer.Fit(training, l2, useEmbedding, useLexical, epochs);
                return e => HeadTrainer.Score(bias, dense, sparse, e.Embedding, e.Indices, e.Values);
            });
            foreach (var rate in new[] { 0.01, 0.015, 0.02 })
            {
                var threshold = ThresholdAt(rows.Select((r, i) => (r, i)).Where(t => t.r.Label == "benign").Select(t => scores[t.i]), rate);
                var line = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"{name,-24} fpr≤{rate:0.000} t={threshold:0.000}"));
                line.Append(Metrics(rows, i => scores[i] >= threshold, " ml"));
                foreach (var suppress in new[] { 0.1, 0.3 })
                {
                    line.Append(Metrics(rows, i => scores[i] >= threshold || (rulesScores[i] >= PromptInjectionDetector.DefaultThreshold && !(rulesScores[i] < 0.7 && scores[i] < suppress)), string.Create(CultureInfo.InvariantCulture, $" union<{suppress}")));
                }
                Console.WriteLine(line);
            }
        }
    }

    public static string Metrics(IReadOnlyList<Row> rows, Func<int, bool> flagged, string label)
    {
        var attacks = 0;
        var caught = 0;
        var benign = 0;
        var falsePositives = 0;
        var notInject = 0;
        var notInjectFlagged = 0;
        var bySource = new SortedDictionary<string, (int Attacks, int Caught)>(StringComparer.Ordinal);
        for (var i = 0; i < rows.Count; i++)
        {
            var flag = flagged(i);
            if (rows[i].Label == "benign")
            {
                benign++;
                falsePositives += flag ? 1 : 0;
                if (rows[i].Source == "notinject")
                {
                    notInject++;
                    notInjectFlagged += flag ? 1 : 0;
                }
            }
            else
            {
                attacks++;
                caught += flag ? 1 : 0;
                var (a, c) = bySource.GetValueOrDefault(rows[i].Source);
                bySource[rows[i].Source] = (a + 1, c + (flag ? 1 : 0));
            }
        }

        var sources = string.Join(' ', bySource.Where(s => s.Value.Attacks >= 20).Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Key[..4]}={s.Value.Caught / (double)s.Value.Attacks:0.00}")));
        return string.Create(CultureInfo.InvariantCulture, $" |{label} R={caught / (double)attacks:0.000} FPR={falsePositives / (double)benign:0.000} NI={1 - (notInjectFlagged / (double)notInject):0.000} [{sources}]");
    }
}
