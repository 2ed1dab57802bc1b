using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LlmTrace.Domain.Security;
using LlmTrace.Ml;

// Measures the security detectors on the labelled prompts in ../shared/eval (fixed train/test split), and trains the
// ML head on the train split.
//   dotnet run -c Release --project tools/LlmTrace.SecurityEval -- --train                 (writes LlmTrace.Ml/injection-head.json)
//   dotnet run -c Release --project tools/LlmTrace.SecurityEval -- --split test --write docs/SECURITY-EVAL.md
var data = "../shared/eval/prompt-injection.jsonl";
var split = "test";
string? write = null;
var train = false;
var headPath = "LlmTrace.Ml/injection-head.json";
var threshold = PromptInjectionDetector.DefaultThreshold;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--data": data = args[++i]; break;
        case "--split": split = args[++i]; break;
        case "--write": write = args[++i]; break;
        case "--train": train = true; break;
        case "--head": headPath = args[++i]; break;
        case "--threshold": threshold = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--misses": Environment.SetEnvironmentVariable("LLMTRACE_EVAL_MISSES", "1"); break;
        default: throw new ArgumentException($"Unknown argument {args[i]}");
    }
}

var bytes = File.ReadAllBytes(data);
var hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
var all = Encoding.UTF8.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries)
    .Select(line => JsonSerializer.Deserialize<Row>(line, new JsonSerializerOptions(JsonSerializerDefaults.Web))!)
    .ToList();
using var embedder = new MiniLmEmbedder();

if (train)
{
    var rows = all.Where(r => r.Split == "train").ToList();
    Console.WriteLine($"Embedding {rows.Count} train rows…");
    var x = Embed(embedder, rows.Select(r => r.Text).ToList());
    var y = rows.Select(r => r.Label != "benign").ToList();
    var (bias, weights) = LinearHead.Fit(x, y);
    var fitted = new LinearHead { Embedding = MiniLmEmbedder.ModelName, DataSha256 = hash, Command = "dotnet run -c Release --project tools/LlmTrace.SecurityEval -- --train", Threshold = 0.5, Bias = bias, Weights = weights };
    // Threshold: the lowest that keeps the false-positive rate on benign train rows at or under 1 %. In-sample rates are
    // optimistic, and the rules add their own false positives, so this leaves room under the 3 % budget.
    var benignScores = x.Where((_, i) => !y[i]).Select(v => fitted.Score(v)).Order().ToList();
    var chosen = Math.Max(0.5, benignScores[(int)Math.Floor(benignScores.Count * 0.99)] + 1e-6);
    fitted = fitted with { Threshold = Math.Round(chosen, 4) };
    File.WriteAllText(headPath, fitted.ToJson());
    Console.WriteLine($"Wrote {headPath}: threshold {fitted.Threshold}, data sha256 {hash}");
    return;
}

var head = File.Exists(headPath) ? LinearHead.FromJson(File.ReadAllText(headPath)) : null;
var rowsToScore = all.Where(r => r.Split == split).ToList();
var detector = new PromptInjectionDetector();
IInjectionClassifier? classifier = head is null ? null : new Memo(new MiniLmInjectionClassifier(embedder, head));
var union = new EnsembleDetector(detector, classifier, EnsembleMode.Union);
var majority = new EnsembleDetector(detector, classifier, EnsembleMode.Majority);

var report = new StringBuilder();
var headLine = head is null ? "." : string.Create(CultureInfo.InvariantCulture, $"; ML head threshold {head.Threshold} (fitted on `{head.Split}`, data sha256 `{head.DataSha256[..12]}…`).");
report.AppendLine(CultureInfo.InvariantCulture, $"Data: `{data}` (sha256 `{hash}`), split `{split}`, {rowsToScore.Count} rows. Rules threshold {threshold}{headLine}");
var detectors = new List<(string Name, Func<string, bool> Flag)> { ("Rules only", t => detector.Evaluate(t).IsFlagged(threshold)) };
if (classifier is not null)
{
    detectors.Add(("ML only (MiniLM + logistic regression)", t => classifier.Score(t) >= classifier.Threshold));
    detectors.Add(("Ensemble, union (with over-defence suppression)", t => union.Evaluate(t, threshold).Flagged));
    detectors.Add(("Ensemble, majority", t => majority.Evaluate(t, threshold).Flagged));
}

foreach (var (name, flag) in detectors)
{
    var results = rowsToScore.Select(r => (Row: r, Flagged: flag(r.Text))).ToList();
    report.AppendLine();
    report.AppendLine(CultureInfo.InvariantCulture, $"### {name}");
    report.AppendLine();
    report.AppendLine("| source | rows | attacks | benign | precision | recall | F1 | false-positive rate |");
    report.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
    foreach (var group in results.GroupBy(r => r.Row.Source).OrderBy(g => g.Key, StringComparer.Ordinal))
    {
        report.AppendLine(Line(group.Key, [.. group]));
    }

    report.AppendLine(Line("**overall**", results));
    var notInject = results.Where(r => r.Row.Source == "notinject").ToList();
    report.AppendLine();
    report.AppendLine(CultureInfo.InvariantCulture, $"NotInject over-defence accuracy: **{(notInject.Count == 0 ? double.NaN : notInject.Count(r => !r.Flagged) / (double)notInject.Count):P1}** ({notInject.Count} rows).");
    if (Environment.GetEnvironmentVariable("LLMTRACE_EVAL_MISSES") == "1")
    {
        foreach (var (row, flagged) in results.Where(r => r.Flagged != (r.Row.Label != "benign")).Take(30))
        {
            Console.WriteLine($"{(flagged ? "FP" : "FN")} [{row.Source}] {row.Text[..Math.Min(140, row.Text.Length)].ReplaceLineEndings(" ")}");
        }
    }
}

Console.WriteLine(report);
if (write is not null)
{
    var template = File.ReadAllText(write);
    var begin = template.IndexOf("<!-- rules:begin -->", StringComparison.Ordinal);
    var end = template.IndexOf("<!-- rules:end -->", StringComparison.Ordinal);
    File.WriteAllText(write, template[..(begin + "<!-- rules:begin -->".Length)] + "\n" + report + template[end..]);
}

static List<float[]> Embed(MiniLmEmbedder embedder, IReadOnlyList<string> texts)
    => [.. texts.Chunk(32).SelectMany(chunk => embedder.EmbedBatch(chunk))];

static string Line(string name, IReadOnlyList<(Row Row, bool Flagged)> items)
{
    var attacks = items.Count(i => i.Row.Label != "benign");
    var benign = items.Count - attacks;
    var tp = items.Count(i => i.Flagged && i.Row.Label != "benign");
    var fp = items.Count(i => i.Flagged && i.Row.Label == "benign");
    var precision = tp + fp == 0 ? double.NaN : tp / (double)(tp + fp);
    var recall = attacks == 0 ? double.NaN : tp / (double)attacks;
    var f1 = double.IsNaN(precision) || double.IsNaN(recall) || precision + recall == 0 ? double.NaN : 2 * precision * recall / (precision + recall);
    var fpr = benign == 0 ? double.NaN : fp / (double)benign;
    return string.Create(CultureInfo.InvariantCulture, $"| {name} | {items.Count} | {attacks} | {benign} | {F(precision)} | {F(recall)} | {F(f1)} | {F(fpr)} |");

    static string F(double value) => double.IsNaN(value) ? "–" : value.ToString("0.000", CultureInfo.InvariantCulture);
}

/// <summary>Scores each text once, although three detectors ask.</summary>
internal sealed class Memo(IInjectionClassifier inner) : IInjectionClassifier
{
    private readonly Dictionary<string, double> _scores = new(StringComparer.Ordinal);

    public string Name => inner.Name;

    public double Threshold => inner.Threshold;

    public double Score(string text)
    {
        if (!_scores.TryGetValue(text, out var score))
        {
            _scores[text] = score = inner.Score(text);
        }

        return score;
    }
}

internal sealed record Row(string Text, string Label, string Source, string? Category, string Split);
