using LlmTrace.Bench;

// Proxy overhead: the same load straight at a fast loopback upstream and through SelfHost (capture on), in one run.
// Usage: dotnet run -c Release --project bench/LlmTrace.Bench -- [--seconds 10] [--concurrency 16,64] [--markdown docs/BENCHMARKS.md]
var options = BenchOptions.Parse(args);
await ProxyOverheadBenchmark.RunAsync(options);
