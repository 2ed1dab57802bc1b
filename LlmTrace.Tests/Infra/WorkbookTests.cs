using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Resilience;
using LlmTrace.Domain.Telemetry;
using LlmTrace.Functions.Infrastructure;
using LlmTrace.Tests.Costs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace LlmTrace.Tests.Infra;

/// <summary>The Azure workbook charts only metrics the code emits: a renamed instrument fails here, not on a blank dashboard.</summary>
public sealed partial class WorkbookTests
{
    [Fact]
    public void EveryMetricTheWorkbookQueries_IsAnInstrumentTheGatewayPublishes()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "LlmTrace.sln")))
        {
            root = Path.GetDirectoryName(root)!;
        }

        using var workbook = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "infra", "modules", "workbook.json")));
        var queried = workbook.RootElement.GetProperty("items").EnumerateArray()
            .Where(i => i.GetProperty("content").TryGetProperty("query", out _))
            .SelectMany(i => MetricNames(i.GetProperty("content").GetProperty("query").GetString()!))
            .ToHashSet(StringComparer.Ordinal);

        var published = new HashSet<string>(StringComparer.Ordinal);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, _) =>
        {
            lock (published)
            {
                published.Add(instrument.Name);
            }
        };
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        _ = new GatewayTelemetry(meters, new OptionsMonitorStub<TelemetryOptions>(new()));
        _ = new Breakers(new OptionsMonitorStub<BreakerOptions>(new()), TimeProvider.System, meters, NullLogger<Breakers>.Instance);
        RuntimeHelpers.RunClassConstructor(typeof(CaptureOutbox).TypeHandle);
        RuntimeHelpers.RunClassConstructor(typeof(CaptureDelivery).TypeHandle);
        listener.Start();

        Assert.True(queried.Count >= 8, string.Join(", ", queried));
        Assert.Empty(queried.Except(published));
    }

    /// <summary>The metric names a query filters on: <c>name == 'x'</c> and <c>name in ('x', 'y')</c>.</summary>
    private static IEnumerable<string> MetricNames(string query)
        => NameFilter().Matches(query).SelectMany(m => Quoted().Matches(m.Groups[1].Value).Select(q => q.Groups[1].Value));

    [GeneratedRegex("""\bname (?:==|in) \(?((?:'[^']+'(?:, )?)+)\)?""")]
    private static partial Regex NameFilter();

    [GeneratedRegex("'([^']+)'")]
    private static partial Regex Quoted();
}
