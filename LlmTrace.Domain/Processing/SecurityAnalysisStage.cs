using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Security;
using LlmTrace.Domain.Tenancy;
using Microsoft.Extensions.Logging;

namespace LlmTrace.Domain.Processing;

/// <summary>Runs every registered <see cref="ISecurityAnalyzer"/> over each trace, attaches the findings and alerts on serious ones.</summary>
/// <remarks>A tenant's monitoring scope keeps only request findings (<c>input_only</c>) or only response and tool-call findings (<c>output_only</c>).</remarks>
public sealed class SecurityAnalysisStage(
    IEnumerable<ISecurityAnalyzer> analyzers, FindingAlerter alerter, TenantStore tenants, Telemetry.GatewayTelemetry telemetry,
        ILogger<SecurityAnalysisStage> logger)
    : ITraceStage
{
    public const string DetectorPrefix = "security.";

    private readonly ISecurityAnalyzer[] _analyzers = [.. analyzers];

    public string Name => "security";

    public async Task<IReadOnlyList<Trace>> ProcessAsync(IReadOnlyList<Trace> traces, CancellationToken cancellationToken)
    {
        var result = new Trace[traces.Count];
        for (var i = 0; i < traces.Count; i++)
        {
            var findings = new List<Finding>();
            foreach (var analyzer in _analyzers)
            {
                try
                {
                    findings.AddRange(
                        analyzer.Analyze(traces[i]).Select(
                            f => f.Detector.StartsWith(DetectorPrefix, StringComparison.Ordinal) ? f : f with { Detector = DetectorPrefix + f.Detector }));
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // One broken detector must not stop the trace or the other detectors; the failure is logged as an error.
                    logger.AnalyzerFailed(analyzer.Name, traces[i].TraceId, ex);
                }
            }

            var scope = (await tenants.GetCachedAsync(traces[i].TenantId, cancellationToken).ConfigureAwait(false))?.MonitoringScope ?? MonitoringScope.Hybrid;
            if (scope != MonitoringScope.Hybrid)
            {
                findings.RemoveAll(f => scope == MonitoringScope.InputOnly ? f.Location != "request" : f.Location == "request");
            }

            result[i] = FindingMerge.With(traces[i], findings, DetectorPrefix);
            telemetry.Found(findings);
            await alerter.AlertAsync("security_finding", result[i], findings, cancellationToken).ConfigureAwait(false);
        }

        return result;
    }
}
