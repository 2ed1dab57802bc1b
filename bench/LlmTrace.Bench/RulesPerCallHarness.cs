using System.Diagnostics;
using System.Globalization;
using LlmTrace.Domain.Security;

namespace LlmTrace.Bench;

/// <summary>
/// Per-call latency of the fast rules: BenchmarkDotNet reports percentiles of iteration means, which hide the tail, so
/// this times each call alone (after warm-up) and reports p50, p99 and max, with the GC collections that happened.
/// </summary>
public static class RulesPerCallHarness
{
    public static void Run(int calls)
    {
        var detector = new PromptInjectionDetector();
        var (benign, attack) = SecurityRulesBenchmarks.Prompts();
        Console.WriteLine($"# Fast rules per call, 8 KiB, {calls} calls each after warm-up");
        Console.WriteLine("| input | p50 µs | p99 µs | max µs | allocated per call | gen0 GCs | gen1 GCs |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        Measure("injection rules, benign", () => detector.Evaluate(benign), calls);
        Measure("injection rules, attack", () => detector.Evaluate(attack), calls);
        Measure("normalised views only, benign", () => TextNormalizer.Views(benign), calls);
        Measure("PII + secrets, benign", () => SensitiveDataDetector.Detect(benign), calls);
    }

    private static void Measure(string name, Action call, int calls)
    {
        for (var i = 0; i < 2000; i++)
        {
            call();
        }

        var samples = new double[calls];
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var gen0 = GC.CollectionCount(0);
        var gen1 = GC.CollectionCount(1);
        for (var i = 0; i < calls; i++)
        {
            var started = Stopwatch.GetTimestamp();
            call();
            samples[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
        }

        var perCall = (GC.GetAllocatedBytesForCurrentThread() - allocated) / calls;
        Array.Sort(samples);
        string F(double value) => value.ToString("0.0", CultureInfo.InvariantCulture);
        Console.WriteLine($"| {name} | {F(samples[calls / 2])} | {F(samples[(int)(calls * 0.99)])} | {F(samples[^1])} | {perCall / 1024.0:0.0} KB | {GC.CollectionCount(0) - gen0} | {GC.CollectionCount(1) - gen1} |");
    }
}
