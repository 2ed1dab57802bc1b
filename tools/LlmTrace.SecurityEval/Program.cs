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
//   dotnet run -c Release --project tools/LlmTrace.SecurityEval -- --data tools/LlmTrace.SecurityEval/data/external.jsonl --extra none --split holdout --rules-only --misses
//   dotnet run -c Release --project tools/LlmTrace.SecurityEval -- --loso --lexical-only                (the wording-only experiment)
var data = "../shared/eval/prompt-injection.jsonl";
var split = "test";
string? write = null;
var train = false;
var crossValidate = false;
var leaveOneSourceOut = false;
var rulesOnly = false;
var trainWith = new List<string>();
var extra = "tools/LlmTrace.SecurityEval/data/hard-benign.jsonl";
string? headPath = null;
var lexicalOnly = false;
var threshold = PromptInjectionDetector.DefaultThreshold;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--data": data = args[++i]; break;
        case "--split": split = args[++i]; break;
        case "--write": write = args[++i]; break;
        case "--train": train = true; break;
        case "--cv": crossValidate = true; break;
        case "--loso": leaveOneSourceOut = true; break;
        case "--rules-only": rulesOnly = true; break;
        case "--train-with": trainWith.Add(args[++i]); break;
        case "--extra": extra = args[++i]; break;
        case "--head": headPath = args[++i]; break;
        case "--lexical-only": lexicalOnly = true; break;
        case "--threshold": threshold = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--misses": Environment.SetEnvironmentVariable("LLMTRACE_EVAL_MISSES", "1"); break;
        default: throw new ArgumentException($"Unknown argument {args[i]}");
    }
}

// --lexical-only (an experiment, with --head): a head over the hashed wording alone, trained and scored with all-zero
// embeddings, so its embedding weights stay 0 (docs/SECURITY-EVAL.md, session 14).
if (lexicalOnly && headPath is null && !leaveOneSourceOut && !crossValidate)
{
    throw new ArgumentException("--lexical-only needs --head: the shipped head is the MiniLM one.");
}

headPath ??= "LlmTrace.Ml/injection-head.json";
var bytes = File.ReadAllBytes(data);
var hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
var all = Encoding.UTF8.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries)
    .Select(line => JsonSerializer.Deserialize<Row>(line, new JsonSerializerOptions(JsonSerializerDefaults.Web))!)
    .ToList();
// The hard benign set (trigger words used innocently) is scored beside the main data, split by split; never trained on.
var extraRows = File.Exists(extra)
    ? File.ReadAllLines(extra).Where(l => l.Length > 0).Select(line => JsonSerializer.Deserialize<Row>(line, new JsonSerializerOptions(JsonSerializerDefaults.Web))!).ToList()
    : [];
using var embedder = rulesOnly || lexicalOnly ? null! : new MiniLmEmbedder();
// A lexical-only head learns from the wording alone: its embedding inputs are zeros, so its embedding weights stay 0.
List<float[]> Embeddings(IReadOnlyList<string> texts) => lexicalOnly ? [.. texts.Select(_ => new float[384])] : EmbedCached(embedder, texts, hash);

if (leaveOneSourceOut)
{
    var sources = all.Concat(extraRows.Where(r => r.Split == "train")).ToList();
    LeaveOneSourceOut.Run(sources, Embeddings(sources.Select(r => r.Text).ToList()), extraRows.Where(r => r.Split == "test").ToList(), Embeddings(extraRows.Where(r => r.Split == "test").Select(r => r.Text).ToList()));
    return;
}

if (crossValidate)
{
    var rows = all.Where(r => r.Split == "train").Concat(extraRows.Where(r => r.Split == "train")).ToList();
    CrossValidation.Run(rows, Embeddings(rows.Select(r => r.Text).ToList()));
    return;
}

if (train)
{
    // Settings chosen by 5-fold cross-validation on train (`--cv`): L2 1e-5, 300 epochs, and the threshold that gives
    // 1.5 % out-of-fold false positives on benign train rows, which leaves room for the rules' own false positives under
    // the 3 % budget. No test row informs any of them.
    const double L2 = 1e-5;
    const int Epochs = 300;
    const double FalsePositiveBudget = 0.015;
    // The hard benign set's train rows teach the head that trigger words alone are not attacks; its test rows never train.
    var rows = all.Where(r => r.Split == "train").Concat(extraRows.Where(r => r.Split == "train")).ToList();
    // More sources to learn from (repeatable): the external set's `dev` sources and the blind probe sets (split `probe`).
    // Rows of a `holdout` or `test` split are never trained on.
    foreach (var file in trainWith)
    {
        rows.AddRange(File.ReadAllLines(file).Where(l => l.Length > 0)
            .Select(line => JsonSerializer.Deserialize<Row>(line, new JsonSerializerOptions(JsonSerializerDefaults.Web))!)
            .Where(r => r.Split is "dev" or "probe"));
    }

    var examples = CrossValidation.Examples(rows, Embeddings(rows.Select(r => r.Text).ToList()));
    var folds = rows.Select(r => CrossValidation.FoldOf(r.Text)).ToList();
    var outOfFold = CrossValidation.OutOfFold(examples, folds, training =>
    {
        var (b, d, s) = HeadTrainer.Fit(training, L2, epochs: Epochs);
        return e => HeadTrainer.Score(b, d, s, e.Embedding, e.Indices, e.Values);
    });
    var chosen = CrossValidation.ThresholdAt(outOfFold.Where((_, i) => !examples[i].IsAttack), FalsePositiveBudget);
    var summary = CrossValidation.Metrics(rows, i => outOfFold[i] >= chosen, "model, out-of-fold on train:");
    Console.WriteLine($"Threshold {chosen:0.0000}{summary}");
    var (bias, dense, sparse) = HeadTrainer.Fit(examples, L2, epochs: Epochs);
    var fitted = new LinearHead
    {
        Embedding = lexicalOnly ? "none (lexical features only)" : MiniLmEmbedder.ModelName,
        DataSha256 = hash,
        Command = "dotnet run -c Release --project tools/LlmTrace.SecurityEval -- --train" + (lexicalOnly ? " --lexical-only" : "") + string.Concat(trainWith.Select(f => " --train-with " + f)),
        Threshold = Math.Round(chosen, 4),
        ThresholdRule = string.Create(CultureInfo.InvariantCulture, $"{FalsePositiveBudget:P1} false positives on benign train rows, out of fold ({CrossValidation.Folds}-fold); L2 {L2}, {Epochs} epochs;{summary}"),
        Bias = bias,
        Weights = dense,
        LexicalWeights = LinearHead.EncodeWeights(sparse),
    };
    File.WriteAllText(headPath, fitted.ToJson());
    Console.WriteLine($"Wrote {headPath}: threshold {fitted.Threshold}, data sha256 {hash}");
    return;
}

var head = !rulesOnly && File.Exists(headPath) ? LinearHead.FromJson(File.ReadAllText(headPath)) : null;
var rowsToScore = all.Where(r => r.Split == split).Concat(extraRows.Where(r => r.Split == split)).ToList();
var detector = new PromptInjectionDetector();
// Every pattern compiled before the first row: a first match that compiles can pass the 250 ms timeout on a busy machine,
// and a timed-out rule counts as no match (the hosts warm up the same way at start).
detector.WarmUp();
Memo? classifier = head is null ? null : new Memo(new MiniLmInjectionClassifier(embedder, head));
if (head is not null && classifier is not null && lexicalOnly)
{
    // A wording-only head scores with an all-zero embedding, as it was trained.
    var none = new float[384];
    foreach (var text in rowsToScore.Select(r => r.Text))
    {
        classifier.Prime(text, head.Score(none, text));
    }
}
else if (head is not null && classifier is not null)
{
    // The classifier's own formula over cached embeddings of the same model: minutes saved on every run.
    var texts = rowsToScore.Select(r => r.Text).ToList();
    foreach (var (text, embedding) in texts.Zip(EmbedCached(embedder, texts, hash)))
    {
        classifier.Prime(text, head.Score(embedding, text));
    }
}

var union = new EnsembleDetector(detector, classifier, EnsembleMode.Union);
var majority = new EnsembleDetector(detector, classifier, EnsembleMode.Majority);
var gated = new EnsembleDetector(detector, classifier, EnsembleMode.Gated);

var report = new StringBuilder();
var headLine = head is null ? "." : string.Create(CultureInfo.InvariantCulture, $"; ML head threshold {head.Threshold} (fitted on `{head.Split}`, data sha256 `{head.DataSha256[..12]}…`).");
var extraLine = extraRows.Count == 0 ? string.Empty : $" Plus the `{split}` rows of `{extra}` (source `llmtrace-hard-benign`, sha256 `{Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(extra)))[..12]}…`), never trained on.";
report.AppendLine(CultureInfo.InvariantCulture, $"Data: `{data}` (sha256 `{hash}`), split `{split}`, {rowsToScore.Count} rows. Rules threshold {threshold}{headLine}{extraLine}");
var detectors = new List<(string Name, Func<string, bool> Flag)> { ("Rules only", t => detector.Evaluate(t).IsFlagged(threshold)) };
if (classifier is not null)
{
    detectors.Add((lexicalOnly ? "Lexical classifier only (hashed n-grams, logistic regression)" : "ML only (MiniLM embedding + hashed n-grams, logistic regression)", t => classifier.Score(t) >= classifier.Threshold));
    detectors.Add(("Ensemble, gated (the default when ML is on)", t => gated.Evaluate(t, threshold).Flagged));
    detectors.Add(("Ensemble, gated, without over-defence suppression", t =>
    {
        var verdict = detector.Evaluate(t);
        var score = classifier.Score(t);
        return verdict.IsFlagged(threshold) || (score >= classifier.Threshold && (verdict.Matches.Count > 0 || score >= EnsembleDetector.GatedCertainty));
    }));
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
        foreach (var (row, flagged) in results.Where(r => r.Flagged != (r.Row.Label != "benign")).Take(rulesOnly ? int.MaxValue : 30))
        {
            // Rules only: which rules matched (for a miss, those that did but stayed under the threshold) and the score.
            var verdict = rulesOnly ? detector.Evaluate(row.Text) : null;
            var rules = verdict is null ? string.Empty
                : " {" + string.Join(",", verdict.Matches.Select(m => m.Rule.Id)) + string.Create(CultureInfo.InvariantCulture, $"}} {verdict.Score:F2}");
            Console.WriteLine($"{(flagged ? "FP" : "FN")} [{row.Source}]{rules} {row.Text[..Math.Min(rulesOnly ? 400 : 140, row.Text.Length)].ReplaceLineEndings(" ")}");
            if (Environment.GetEnvironmentVariable("LLMTRACE_EVAL_MISSES_FILE") is { Length: > 0 } missesFile)
            {
                // The whole rows, for reading misses longer than a line (never for the holdout: its misses are not read).
                File.AppendAllText(missesFile, JsonSerializer.Serialize(row with { Label = flagged ? "FP" : "FN" }) + "\n");
            }
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

// Embeddings of the data file, cached under obj/ by the file's hash: embedding every row takes minutes.
static List<float[]> EmbedCached(MiniLmEmbedder embedder, IReadOnlyList<string> texts, string hash)
{
    var path = Path.Combine(AppContext.BaseDirectory, $"embeddings-{hash[..16]}.bin");
    var cache = new Dictionary<string, float[]>(StringComparer.Ordinal);
    if (File.Exists(path))
    {
        using var reader = new BinaryReader(File.OpenRead(path));
        var count = reader.ReadInt32();
        for (var i = 0; i < count; i++)
        {
            var text = reader.ReadString();
            var vector = new float[reader.ReadInt32()];
            for (var j = 0; j < vector.Length; j++)
            {
                vector[j] = reader.ReadSingle();
            }

            cache[text] = vector;
        }
    }

    var missing = texts.Where(t => !cache.ContainsKey(t)).Distinct().ToList();
    if (missing.Count > 0)
    {
        Console.WriteLine($"Embedding {missing.Count} rows…");
        foreach (var (text, vector) in missing.Zip(Embed(embedder, missing)))
        {
            cache[text] = vector;
        }

        using var writer = new BinaryWriter(File.Create(path));
        writer.Write(cache.Count);
        foreach (var (text, vector) in cache)
        {
            writer.Write(text);
            writer.Write(vector.Length);
            foreach (var value in vector)
            {
                writer.Write(value);
            }
        }
    }

    return [.. texts.Select(t => cache[t])];
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

    public void Prime(string text, double score) => _scores[text] = score;

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
