using BenchmarkDotNet.Running;
using LlmTrace.Bench;

// On demand, never in CI.
//   dotnet run -c Release --project bench/LlmTrace.Bench -- proxy [--seconds 10] [--concurrency 16,64] [--streaming]
//   dotnet run -c Release --project bench/LlmTrace.Bench -- rules [BenchmarkDotNet arguments]
//   dotnet run -c Release --project bench/LlmTrace.Bench -- ml [BenchmarkDotNet arguments]
//   dotnet run -c Release --project bench/LlmTrace.Bench -- rules-calls [calls]
//   dotnet run -c Release --project bench/LlmTrace.Bench -- soak [--streams 1000] [--minutes 10]
//   dotnet run -c Release --project bench/LlmTrace.Bench -- journal [--seconds 5] [--concurrency 1,16] [--rounds 3]
//   dotnet run -c Release --project bench/LlmTrace.Bench -- telemetry [--seconds 5] [--concurrency 1,16] [--rounds 3]
//   dotnet run -c Release --project bench/LlmTrace.Bench -- routing [--seconds 5] [--concurrency 1,16] [--rounds 3]
//   dotnet run -c Release --project bench/LlmTrace.Bench -- stream-timing [--seconds 5] [--concurrency 1,16] [--rounds 3]
//   dotnet run -c Release --project bench/LlmTrace.Bench -- counters [--seconds 5] [--concurrency 1,16] [--rounds 4]
//   dotnet run -c Release --project bench/LlmTrace.Bench -- dashboard [traces, default 100000] [rounds, default 20]
if (args.Length > 0 && args[0] == "dashboard")
{
    await DashboardBenchmark.RunAsync(
        args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 100_000,
        args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 20);
    return;
}

if (args.Length > 0 && args[0] == "rules")
{
    BenchmarkRunner.Run<SecurityRulesBenchmarks>(args: args[1..]);
    return;
}

if (args.Length > 0 && args[0] == "rules-calls")
{
    RulesPerCallHarness.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 20_000);
    return;
}

if (args.Length > 0 && args[0] == "ml")
{
    BenchmarkRunner.Run<MlDetectorBenchmarks>(args: args[1..]);
    return;
}

if (args.Length > 0 && args[0] == "soak")
{
    int Arg(string name, int fallback) => Array.IndexOf(args, name) is var at and > 0 && at + 1 < args.Length ? int.Parse(args[at + 1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
    await SoakBenchmark.RunAsync(streams: Arg("--streams", 1000), minutes: Arg("--minutes", 10));
    return;
}

if (args.Length > 0 && args[0] == "telemetry")
{
    await ProxyOverheadBenchmark.RunTelemetryAsync(BenchOptions.Parse(args[1..]));
    return;
}

if (args.Length > 0 && args[0] == "stream-timing")
{
    await StreamTimingBenchmark.RunAsync(BenchOptions.Parse(args[1..]));
    return;
}

if (args.Length > 0 && args[0] == "counters")
{
    await ProxyOverheadBenchmark.RunCountersAsync(BenchOptions.Parse(args[1..]));
    return;
}

if (args.Length > 0 && args[0] == "routing")
{
    await ProxyOverheadBenchmark.RunRoutingAsync(BenchOptions.Parse(args[1..]));
    return;
}

if (args.Length > 0 && args[0] == "journal")
{
    await ProxyOverheadBenchmark.RunJournalAsync(BenchOptions.Parse(args[1..]));
    return;
}

var options = BenchOptions.Parse(args.Length > 0 && args[0] == "proxy" ? args[1..] : args);
await ProxyOverheadBenchmark.RunAsync(options);
