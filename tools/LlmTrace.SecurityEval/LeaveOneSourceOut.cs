using System.Globalization;
using LlmTrace.Domain.Security;
using LlmTrace.Ml;

/// <summary>
/// The honest estimate for prompts the detectors were not fitted to: for each source of the data, the ML head is trained
/// on every other source (train and test rows alike, with the same settings and threshold rule as <c>--train</c>) and
/// scored on the held-out source alone. The rules are not trained, so their figures are simply per source; sources that
/// shaped the rules' wording still flatter them.
/// </summary>
internal static class LeaveOneSourceOut
{
    private const double L2 = 1e-5;
    private const int Epochs = 300;
    private const double FalsePositiveBudget = 0.015;

    public static void Run(IReadOnlyList<Row> rows, IReadOnlyList<float[]> embeddings, IReadOnlyList<Row> hardBenign, IReadOnlyList<float[]> hardBenignEmbeddings)
    {
        var examples = CrossValidation.Examples(rows, embeddings);
        var hardExamples = CrossValidation.Examples(hardBenign, hardBenignEmbeddings);
        var rules = new PromptInjectionDetector();
        var rulesScores = rows.Select(r => rules.Evaluate(r.Text).Score).ToArray();
        var hardRules = hardBenign.Select(r => rules.Evaluate(r.Text).Score).ToArray();
        Console.WriteLine("| held-out source | rows | attacks | benign | rules recall | rules FPR | ML recall | ML FPR | union recall | union FPR | union FPR, hard benign test |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var totals = new Totals();
        // Every held-out row's scores under its own fold's head, to compare ensemble rules on out-of-source data.
        var scored = new List<(bool Attack, double Rules, double Model, double Threshold)>();
        var hardScored = new List<(double Rules, double Model, double Threshold)>();
        foreach (var source in rows.Select(r => r.Source).Distinct().Order(StringComparer.Ordinal))
        {
            var held = Enumerable.Range(0, rows.Count).Where(i => rows[i].Source == source).ToList();
            var training = Enumerable.Range(0, rows.Count).Where(i => rows[i].Source != source).ToList();
            var trainingExamples = training.Select(i => examples[i]).ToList();
            var folds = training.Select(i => CrossValidation.FoldOf(rows[i].Text)).ToList();
            var outOfFold = CrossValidation.OutOfFold(trainingExamples, folds, set =>
            {
                var (b, d, s) = HeadTrainer.Fit(set, L2, epochs: Epochs);
                return e => HeadTrainer.Score(b, d, s, e.Embedding, e.Indices, e.Values);
            });
            var threshold = CrossValidation.ThresholdAt(outOfFold.Where((_, k) => !trainingExamples[k].IsAttack), FalsePositiveBudget);
            var (bias, dense, sparse) = HeadTrainer.Fit(trainingExamples, L2, epochs: Epochs);
            double Model(TrainingExample e) => HeadTrainer.Score(bias, dense, sparse, e.Embedding, e.Indices, e.Values);

            var line = new Totals();
            foreach (var i in held)
            {
                line.Add(rows[i].Label != "benign", rulesScores[i] >= PromptInjectionDetector.DefaultThreshold, Model(examples[i]) >= threshold, rulesScores[i], Model(examples[i]));
                scored.Add((rows[i].Label != "benign", rulesScores[i], Model(examples[i]), threshold));
            }

            hardScored.AddRange(hardExamples.Select((e, k) => (hardRules[k], Model(e), threshold)));

            var hardUnion = hardExamples.Select((e, k) => Union(hardRules[k] >= PromptInjectionDetector.DefaultThreshold, Model(e) >= threshold, hardRules[k], Model(e))).Count(f => f);
            totals.Merge(line);
            Console.WriteLine(line.Row(source, hardUnion / (double)Math.Max(1, hardExamples.Count)));
        }

        Console.WriteLine(totals.Row("**all held-out rows**", double.NaN));
        CompareEnsembles(scored, hardScored);
    }

    /// <summary>
    /// Ensemble rules side by side on the held-out rows (each scored by a head that never saw its source) and on the hard
    /// benign test rows: the union as shipped, and the union gated on the rules having seen anything at all (a rule
    /// match of any weight) unless the model is very sure.
    /// </summary>
    private static void CompareEnsembles(List<(bool Attack, double Rules, double Model, double Threshold)> scored, List<(double Rules, double Model, double Threshold)> hard)
    {
        const double RulesThreshold = PromptInjectionDetector.DefaultThreshold;
        var candidates = new List<(string Name, Func<double, double, double, bool> Flag)>
        {
            ("rules only", (r, m, t) => r >= RulesThreshold),
            ("union (shipped)", (r, m, t) => Union(r >= RulesThreshold, m >= t, r, m)),
        };
        // EnsembleDetector's Gated mode: any rule match counts as "the rules saw something" (a score above 0).
        foreach (var sure in new[] { 0.95, 0.98, EnsembleDetector.GatedCertainty, 0.995 })
        {
            candidates.Add(($"gated, model alone at ≥ {sure}", (r, m, t) => Union(r >= RulesThreshold, m >= t && (r > 0 || m >= sure), r, m)));
        }

        Console.WriteLine();
        Console.WriteLine("| ensemble rule | recall, held-out rows | FPR, held-out rows | FPR, hard benign test |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var (name, flag) in candidates)
        {
            var attacks = scored.Where(x => x.Attack).ToList();
            var benign = scored.Where(x => !x.Attack).ToList();
            var recall = attacks.Count(x => flag(x.Rules, x.Model, x.Threshold)) / (double)Math.Max(1, attacks.Count);
            var fpr = benign.Count(x => flag(x.Rules, x.Model, x.Threshold)) / (double)Math.Max(1, benign.Count);
            var hardFpr = hard.Count(x => flag(x.Rules, x.Model, x.Threshold)) / (double)Math.Max(1, hard.Count);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {recall:0.000} | {fpr:0.000} | {hardFpr:0.000} |"));
        }
    }

    /// <summary>The union ensemble's rule (<see cref="EnsembleDetector"/>), with its over-defence suppression.</summary>
    private static bool Union(bool rulesFlag, bool modelFlag, double rulesScore, double modelScore)
        => modelFlag || (rulesFlag && !(rulesScore < 0.7 && modelScore < 0.1));

    private sealed class Totals
    {
        private int _attacks, _benign, _rulesTp, _rulesFp, _modelTp, _modelFp, _unionTp, _unionFp;

        public void Add(bool attack, bool rulesFlag, bool modelFlag, double rulesScore, double modelScore)
        {
            var union = Union(rulesFlag, modelFlag, rulesScore, modelScore);
            if (attack)
            {
                _attacks++;
                _rulesTp += rulesFlag ? 1 : 0;
                _modelTp += modelFlag ? 1 : 0;
                _unionTp += union ? 1 : 0;
            }
            else
            {
                _benign++;
                _rulesFp += rulesFlag ? 1 : 0;
                _modelFp += modelFlag ? 1 : 0;
                _unionFp += union ? 1 : 0;
            }
        }

        public void Merge(Totals other)
        {
            _attacks += other._attacks;
            _benign += other._benign;
            _rulesTp += other._rulesTp;
            _rulesFp += other._rulesFp;
            _modelTp += other._modelTp;
            _modelFp += other._modelFp;
            _unionTp += other._unionTp;
            _unionFp += other._unionFp;
        }

        public string Row(string name, double hardFpr)
            => string.Create(CultureInfo.InvariantCulture, $"| {name} | {_attacks + _benign} | {_attacks} | {_benign} | {R(_rulesTp, _attacks)} | {R(_rulesFp, _benign)} | {R(_modelTp, _attacks)} | {R(_modelFp, _benign)} | {R(_unionTp, _attacks)} | {R(_unionFp, _benign)} | {(double.IsNaN(hardFpr) ? "–" : hardFpr.ToString("0.000", CultureInfo.InvariantCulture))} |");

        private static string R(int count, int of) => of == 0 ? "–" : (count / (double)of).ToString("0.000", CultureInfo.InvariantCulture);
    }
}
