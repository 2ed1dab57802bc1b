using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LlmTrace.Domain.Security;

// Measures the security detectors on the labelled prompts in ../shared/eval (fixed train/test split).
// Usage: dotnet run -c Release --project tools/LlmTrace.SecurityEval -- [--data PATH] [--split test|train] [--write docs/SECURITY-EVAL.md] [--threshold 0.5]
var data = "../shared/eval/prompt-injection.jsonl";
var split = "test";
string? write = null;
var threshold = PromptInjectionDetector.DefaultThreshold;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--data": data = args[++i]; break;
        case "--split": split = args[++i]; break;
        case "--write": write = args[++i]; break;
        case "--threshold": threshold = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--misses": Environment.SetEnvironmentVariable("LLMTRACE_EVAL_MISSES", "1"); break;
        default: throw new ArgumentException($"Unknown argument {args[i]}");
    }
}

var bytes = File.ReadAllBytes(data);
var hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
var rows = Encoding.UTF8.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries)
    .Select(line => JsonSerializer.Deserialize<Row>(line, new JsonSerializerOptions(JsonSerializerDefaults.Web))!)
    .Where(r => r.Split == split)
    .ToList();

var detector = new PromptInjectionDetector();
var results = rows.Select(r => (Row: r, Flagged: detector.Evaluate(r.Text).IsFlagged(threshold))).ToList();

var report = new StringBuilder();
report.AppendLine(CultureInfo.InvariantCulture, $"Data: `{data}` (sha256 `{hash}`), split `{split}`, {rows.Count} rows, threshold {threshold}.");
report.AppendLine();
report.AppendLine("| source | rows | attacks | benign | precision | recall | F1 | false-positive rate |");
report.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
foreach (var group in results.GroupBy(r => r.Row.Source).OrderBy(g => g.Key, StringComparer.Ordinal))
{
    report.AppendLine(Line(group.Key, [.. group]));
}

report.AppendLine(Line("**overall**", results));
var notInject = results.Where(r => r.Row.Source == "notinject").ToList();
var notInjectAccuracy = notInject.Count == 0 ? double.NaN : notInject.Count(r => !r.Flagged) / (double)notInject.Count;
report.AppendLine();
report.AppendLine(CultureInfo.InvariantCulture, $"NotInject over-defence accuracy (benign rows full of trigger words that are not flagged): **{notInjectAccuracy:P1}** ({notInject.Count} rows).");

Console.WriteLine(report);
if (Environment.GetEnvironmentVariable("LLMTRACE_EVAL_MISSES") == "1")
{
    var only = Environment.GetEnvironmentVariable("LLMTRACE_EVAL_SOURCE");
    foreach (var (row, flagged) in results.Where(r => r.Flagged != (r.Row.Label != "benign") && (only is null || r.Row.Source == only)).Take(40))
    {
        Console.WriteLine($"{(flagged ? "FP" : "FN")} [{row.Source}] {row.Text[..Math.Min(160, row.Text.Length)].ReplaceLineEndings(" ")}");
    }
}

if (write is not null)
{
    var template = File.Exists(write) ? File.ReadAllText(write) : "# Security evaluation\n\n<!-- rules:begin -->\n<!-- rules:end -->\n";
    var begin = template.IndexOf("<!-- rules:begin -->", StringComparison.Ordinal);
    var end = template.IndexOf("<!-- rules:end -->", StringComparison.Ordinal);
    var updated = template[..(begin + "<!-- rules:begin -->".Length)] + "\n" + report + template[end..];
    File.WriteAllText(write, updated);
}

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

internal sealed record Row(string Text, string Label, string Source, string? Category, string Split);
