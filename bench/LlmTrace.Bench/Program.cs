using System.Globalization;
using BenchmarkDotNet.Running;
using LlmTrace.Bench;

// On demand, never in CI.
//   dotnet run -c Release --project bench/LlmTrace.Bench -- proxy [--seconds 10] [--concurrency 16,64] [--streaming]
//   dotnet run -c Release --project bench/LlmTrace.Bench -- rules [BenchmarkDotNet arguments]
//   dotnet run -c Release --project bench/LlmTrace.Bench -- ml [BenchmarkDotNet arguments]
//   dotnet run -c Release --project bench/LlmTrace.Bench -- rules-calls [calls]
//   dotnet run -c Release --project bench/LlmTrace.Bench -- rules-by-rule [top] [text index]
//   dotnet run -c Release --project bench/LlmTrace.Bench -- soak [--streams 1000] [--minutes 10]
//   dotnet run -c Release --project bench/LlmTrace.Bench -- journal [--seconds 5] [--concurrency 1,16] [--rounds 3]
//   dotnet run -c Release --project bench/LlmTrace.Bench -- telemetry [--seconds 5] [--concurrency 1,16] [--rounds 3]
//   dotnet run -c Release --project bench/LlmTrace.Bench -- routing [--seconds 5] [--concurrency 1,16] [--rounds 3]
//   dotnet run -c Release --project bench/LlmTrace.Bench -- stream-timing [--seconds 5] [--concurrency 1,16] [--rounds 3]
//   dotnet run -c Release --project bench/LlmTrace.Bench -- counters [--seconds 5] [--concurrency 1,16] [--rounds 4]
//   dotnet run -c Release --project bench/LlmTrace.Bench -- dashboard [traces, default 100000] [rounds, default 20]
var command = args.Length > 0 ? args[0] : "proxy";
var rest = args.Length > 0 ? args[1..] : [];
int Positional(int index, int fallback) => rest.Length > index ? int.Parse(rest[index], CultureInfo.InvariantCulture) : fallback;
int Named(string name, int fallback) => Array.IndexOf(rest, name) is var at and >= 0 && at + 1 < rest.Length ? int.Parse(rest[at + 1], CultureInfo.InvariantCulture) : fallback;

switch (command)
{
    case "dashboard":
        await DashboardBenchmark.RunAsync(Positional(0, 100_000), Positional(1, 20));
        break;
    case "rules":
        BenchmarkRunner.Run<SecurityRulesBenchmarks>(args: rest);
        break;
    case "rules-calls":
        RulesPerCallHarness.Run(Positional(0, 20_000));
        break;
    case "rules-by-rule":
        RulesPerCallHarness.RunByRule(Positional(0, 25), Positional(1, -1));
        break;
    case "ml":
        BenchmarkRunner.Run<MlDetectorBenchmarks>(args: rest);
        break;
    case "soak":
        await SoakBenchmark.RunAsync(streams: Named("--streams", 1000), minutes: Named("--minutes", 10));
        break;
    case "telemetry":
        await ProxyOverheadBenchmark.RunTelemetryAsync(BenchOptions.Parse(rest));
        break;
    case "stream-timing":
        await StreamTimingBenchmark.RunAsync(BenchOptions.Parse(rest));
        break;
    case "counters":
        await ProxyOverheadBenchmark.RunCountersAsync(BenchOptions.Parse(rest));
        break;
    case "routing":
        await ProxyOverheadBenchmark.RunRoutingAsync(BenchOptions.Parse(rest));
        break;
    case "journal":
        await ProxyOverheadBenchmark.RunJournalAsync(BenchOptions.Parse(rest));
        break;
    case "proxy":
        await ProxyOverheadBenchmark.RunAsync(BenchOptions.Parse(rest));
        break;
    default:
        // No mode named: the arguments are the proxy benchmark's own (e.g. --seconds 10).
        await ProxyOverheadBenchmark.RunAsync(BenchOptions.Parse(args));
        break;
}
