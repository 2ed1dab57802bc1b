using System.Diagnostics;
using System.Globalization;
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
        Measure("PII + secrets, benign", () => SensitiveDataDetector.Detect(benign), calls);
        Measure("toxicity (every answer), benign", () => ToxicityDetector.Detect(benign), calls);
        Measure("both (the guard's fast path), benign", () =>
        {
            detector.Evaluate(benign);
            SensitiveDataDetector.Detect(benign);
        }, calls);
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
