using System.Diagnostics;
using System.Globalization;
using System.Text;
using LlmTrace.Domain.Security;

namespace LlmTrace.Bench;

/// <summary>
/// Per-call latency of the fast rules: BenchmarkDotNet reports percentiles of iteration means, which hide the tail, so
/// this times each call alone (after warm-up) and reports p50 and p99, with the allocation per call and the GC
/// collections that happened. The tail on a shared 2-core machine moves from run to run, so each input is measured in
/// five rounds, and the table gives the median round's p99 with the lowest and highest.
/// </summary>
public static class RulesPerCallHarness
{
    private const int Rounds = 5;

    public static void Run(int calls)
    {
        var detector = new PromptInjectionDetector();
        var (benign, attack) = SecurityRulesBenchmarks.Prompts();
        Console.WriteLine($"# Fast rules per call, 8 KiB, {Rounds} rounds of {calls} calls each after warm-up");
        Console.WriteLine("| input | p50 µs | p99 µs (median round) | p99 range µs | max µs | allocated per call | gen0 GCs |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        Measure("injection rules, benign", () => detector.Evaluate(benign), calls);
        Measure("injection rules, attack", () => detector.Evaluate(attack), calls);
        var dense = AnchorDenseTexts(InjectionRules.All);
        var next = 0;
        Measure($"injection rules, every anchor present ({dense.Count} texts)", () => detector.Evaluate(dense[next++ % dense.Count]), calls);
        Measure("PII + secrets, benign", () => SensitiveDataDetector.Detect(benign), calls);
        Measure("toxicity (every answer), benign", () => ToxicityDetector.Detect(benign), calls);
        Measure("both (the guard's fast path), benign", () =>
        {
            detector.Evaluate(benign);
            SensitiveDataDetector.Detect(benign);
        }, calls);
    }

    /// <summary>
    /// Which rules cost most on the anchor-dense texts: each rule alone in a detector, timed over every text (the detector's
    /// shared work, normalising the views and finding the anchors, is in every figure; the differences are the rules').
    /// </summary>
    public static void RunByRule(int top, int onlyText = -1)
    {
        var dense = AnchorDenseTexts(InjectionRules.All);
        if (onlyText >= 0)
        {
            dense = [dense[onlyText]];
        }

        var all = new PromptInjectionDetector();
        for (var i = 0; i < 20 * dense.Count; i++)
        {
            all.Evaluate(dense[i % dense.Count]); // the shared code tiered up before any rule is timed
        }

        Console.WriteLine("# Every rule, mean µs per anchor-dense text, by text");
        for (var t = 0; t < dense.Count; t++)
        {
            var started = Stopwatch.GetTimestamp();
            for (var round = 0; round < 5; round++)
            {
                all.Evaluate(dense[t]);
            }

            Console.WriteLine($"text {t}: {(Stopwatch.GetElapsedTime(started).TotalMicroseconds / 5).ToString("0", CultureInfo.InvariantCulture)} µs");
        }

        var costs = new List<(string Id, double Microseconds)>();
        foreach (var rule in InjectionRules.All)
        {
            var detector = new PromptInjectionDetector([rule]);
            for (var i = 0; i < Math.Max(3 * dense.Count, 40); i++)
            {
                detector.Evaluate(dense[i % dense.Count]); // the rule's pattern compiled and its code tiered up
            }

            var rounds = Math.Max(3, 40 / dense.Count);
            var started = Stopwatch.GetTimestamp();
            for (var round = 0; round < rounds; round++)
            {
                foreach (var text in dense)
                {
                    detector.Evaluate(text);
                }
            }

            costs.Add((rule.Id, Stopwatch.GetElapsedTime(started).TotalMicroseconds / (rounds * dense.Count)));
        }

        Console.WriteLine($"# Each rule alone, mean µs per 8 KiB anchor-dense text ({dense.Count} texts)");
        Console.WriteLine("| rule | µs |");
        Console.WriteLine("|---|---:|");
        foreach (var (id, microseconds) in costs.OrderByDescending(c => c.Microseconds).Take(top))
        {
            Console.WriteLine($"| {id} | {microseconds.ToString("0", CultureInfo.InvariantCulture)} |");
        }
    }

    /// <summary>
    /// Texts of 8 KiB in which every anchor of every rule occurs once, each in the same neutral sentence: every rule's
    /// prefilter lets its pattern run on the windows around its anchors. Not a sample of traffic but the cost of text
    /// dense in the common words some rules gate on ("join", "convert", "system", "bot"), which the support-chat text
    /// has few of.
    /// </summary>
    public static IReadOnlyList<string> AnchorDenseTexts(IReadOnlyList<InjectionRule> rules)
    {
        var texts = new List<string>();
        var builder = new StringBuilder();
        var item = 0;
        foreach (var anchor in rules.SelectMany(r => r.Anchors).Select(a => a.Trim()).Where(a => a.Length > 0).Distinct(StringComparer.Ordinal))
        {
            var sentence = $"Item {++item} of the ticket mentions {anchor} once. ";
            if (builder.Length + sentence.Length > 8 * 1024)
            {
                texts.Add(builder.ToString());
                builder.Clear();
            }

            builder.Append(sentence);
        }

        texts.Add(builder.ToString());
        return texts;
    }

    private static void Measure(string name, Action call, int calls)
    {
        for (var i = 0; i < 2000; i++)
        {
            call();
        }

        var p50s = new double[Rounds];
        var p99s = new double[Rounds];
        var max = 0.0;
        var samples = new double[calls];
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var gen0 = GC.CollectionCount(0);
        for (var round = 0; round < Rounds; round++)
        {
            for (var i = 0; i < calls; i++)
            {
                var started = Stopwatch.GetTimestamp();
                call();
                samples[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
            }

            Array.Sort(samples);
            p50s[round] = samples[calls / 2];
            p99s[round] = samples[(int)(calls * 0.99)];
            max = Math.Max(max, samples[^1]);
        }

        var perCall = (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)(calls * Rounds);
        Array.Sort(p50s);
        Array.Sort(p99s);
        string F(double value) => value.ToString("0.0", CultureInfo.InvariantCulture);
        Console.WriteLine($"| {name} | {F(p50s[Rounds / 2])} | {F(p99s[Rounds / 2])} | {F(p99s[0])}–{F(p99s[^1])} | {F(max)} | {(perCall / 1024).ToString("0.0", CultureInfo.InvariantCulture)} KB | {GC.CollectionCount(0) - gen0} |");
    }
}
