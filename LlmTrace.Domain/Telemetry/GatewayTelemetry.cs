using System.Diagnostics;
using System.Diagnostics.Metrics;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Providers;
using Trace = LlmTrace.Domain.Capture.Trace;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Telemetry;

/// <summary>
/// The gateway's OpenTelemetry signals, following the GenAI semantic conventions (v1.38, status Development): a CLIENT
/// span per upstream call named <c>{gen_ai.operation.name} {gen_ai.request.model}</c>, the <c>gen_ai.client.*</c>
/// metrics, and the gateway's own <c>llmtrace.*</c> metrics. Instruments cost nothing until an exporter listens
/// (SelfHost's <c>/metrics</c> or OTLP, the Functions host's Azure Monitor exporter). Prompt and answer text are
/// never put on spans.
/// </summary>
public sealed class GatewayTelemetry
{
    public const string Name = "LlmTrace.Gateway";

    /// <summary>Every meter the gateway publishes on: this one and the capture path's. Hosts' exporters listen to all.</summary>
    public static readonly string[] MeterNames = [Name, "LlmTrace.Capture", "LlmTrace.Capture.Azure"];

    private static readonly ActivitySource Source = new(Name);

    private readonly IOptionsMonitor<TelemetryOptions> _options;
    private readonly Histogram<long> _tokens;
    private readonly Histogram<double> _duration;
    private readonly Histogram<double> _timeToFirstChunk;
    private readonly Counter<long> _requests;
    private readonly Counter<long> _backendAttempts;
    private readonly Counter<long> _refusals;
    private readonly Counter<double> _cost;
    private readonly Counter<long> _findings;
    private readonly UpDownCounter<long> _openStreams;

    public GatewayTelemetry(IMeterFactory meters, IOptionsMonitor<TelemetryOptions> options)
    {
        _options = options;
        var meter = meters.Create(Name);
        _tokens = meter.CreateHistogram<long>("gen_ai.client.token.usage", "{token}", "Tokens used per call, by gen_ai.token.type.",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304] });
        _duration = meter.CreateHistogram<double>("gen_ai.client.operation.duration", "s", "Duration of each call, to the last byte.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [
                0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92] });
        _timeToFirstChunk = meter.CreateHistogram<double>("gen_ai.client.operation.time_to_first_chunk", "s", "Time to the first streamed chunk.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24] });
        _requests = meter.CreateCounter<long>("llmtrace.gateway.requests", "{request}", "Calls answered, by route, provider and status class.");
        _backendAttempts = meter.CreateCounter<long>(
            "llmtrace.gateway.backend.attempts",
            "{attempt}",
            "Tries of pool backends, by route, backend and outcome (served, throttled, server_error, unreachable, timeout, breaker_open).");
        _refusals = meter.CreateCounter<long>(
            "llmtrace.gateway.refusals", "{request}", "Calls the gateway refused itself, by reason (rate limit, cost cap, security, ...).");
        _cost = meter.CreateCounter<double>("llmtrace.gateway.cost.usd", "{USD}", "Priced cost of calls in US dollars, by provider and model.");
        _findings = meter.CreateCounter<long>("llmtrace.gateway.findings", "{finding}", "Security and anomaly findings, by type and severity.");
        _openStreams = meter.CreateUpDownCounter<long>("llmtrace.gateway.streams.open", "{stream}", "Streamed answers being copied to clients now.");
    }

    /// <summary>Starts the CLIENT span of an upstream call; null when nobody listens.</summary>
    internal Activity? StartUpstreamCall(RequestInfo? request, string provider, Uri upstream, Guid traceId)
    {
        var operation = request?.Operation ?? "other";
        var activity = Source.StartActivity($"{operation} {request?.Model ?? "unknown"}", ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("gen_ai.operation.name", operation);
            activity.SetTag("gen_ai.provider.name", provider);
            activity.SetTag("gen_ai.request.model", request?.Model);
            activity.SetTag("gen_ai.request.stream", request?.Streaming ?? false);
            activity.SetTag("server.address", upstream.Host);
            activity.SetTag("server.port", upstream.Port);
            activity.SetTag("llmtrace.trace_id", traceId.ToString());
        }

        return activity;
    }

    public void StreamOpened() => _openStreams.Add(1);

    /// <summary>One try of one pool backend.</summary>
    public void BackendAttempt(string route, string backend, string outcome)
        => _backendAttempts.Add(
            1,
            new KeyValuePair<string, object?>("llmtrace.route", route),
            new KeyValuePair<string, object?>("llmtrace.backend", backend),
            new KeyValuePair<string, object?>("llmtrace.outcome", outcome));

    public void StreamClosed() => _openStreams.Add(-1);

    /// <summary>Records a finished call (its trace built) on its span, which it ends, and in the metrics.</summary>
    internal void Completed(Activity? activity, Trace trace, string route, string? requestModel)
    {
        var provider = trace.Provider;
        var operation = trace.Operation ?? "other";
        var errorType = trace.Error ?? (trace.StatusCode >= 400 ? trace.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture) : null);
        if (activity is not null)
        {
            if (activity.IsAllDataRequested)
            {
                activity.SetTag("gen_ai.response.model", trace.Model);
                activity.SetTag("gen_ai.usage.input_tokens", trace.PromptTokens);
                activity.SetTag("gen_ai.usage.output_tokens", trace.CompletionTokens);
                activity.SetTag("gen_ai.usage.cache_read.input_tokens", trace.CachedPromptTokens);
                activity.SetTag("gen_ai.response.finish_reasons", trace.FinishReason is null ? null : new[] { trace.FinishReason });
                activity.SetTag("http.response.status_code", trace.StatusCode);
                activity.SetTag("llmtrace.tenant_id", trace.TenantId.ToString());
                activity.SetTag("llmtrace.agent_id", trace.AgentId);
                if (trace.Cost is { } cost)
                {
                    activity.SetTag("llmtrace.cost_usd", (double)cost.Total);
                }
                foreach (var finding in trace.Findings)
                {
                    activity.AddEvent(new ActivityEvent("llmtrace.guardrail", tags: new ActivityTagsCollection
                    {
                        ["llmtrace.finding.type"] = finding.Type,
                        ["llmtrace.finding.severity"] = finding.Severity.ToString(),
                        ["llmtrace.finding.source"] = finding.Source,
                    }));
                }
            }

            if (errorType is not null)
            {
                activity.SetTag("error.type", errorType);
                activity.SetStatus(ActivityStatusCode.Error);
            }

            activity.Dispose();
        }

        var tenant = _options.CurrentValue.TenantAttribute ? trace.TenantId.ToString() : null;
        var requestTags = new TagList
        {
            { "llmtrace.route", route },
            { "gen_ai.provider.name", provider },
            { "http.response.status_code_class", StatusClass(trace.StatusCode) },
        };
        AddTenant(ref requestTags, tenant);
        _requests.Add(1, requestTags);
        if (trace.Error is { } code && IsRefusal(code))
        {
            var refusalTags = new TagList { { "llmtrace.refusal.reason", code }, { "gen_ai.provider.name", provider } };
            AddTenant(ref refusalTags, tenant);
            _refusals.Add(1, refusalTags);
        }

        var model = requestModel ?? trace.Model;
        if (model is null && trace.StatusCode == 0)
        {
            return; // Refused before it was a model call: no GenAI operation happened.
        }

        var callTags = new TagList
        {
            { "gen_ai.operation.name", operation },
            { "gen_ai.provider.name", provider },
            { "gen_ai.request.model", model ?? "unknown" },
        };
        AddTenant(ref callTags, tenant);
        var withError = callTags;
        if (errorType is not null)
        {
            withError.Add("error.type", errorType);
        }

        _duration.Record(trace.DurationMs / 1000, withError);
        if (trace.Streaming && trace.TtftMs is { } ttft)
        {
            _timeToFirstChunk.Record(ttft / 1000, callTags);
        }

        if (trace.PromptTokens is { } input)
        {
            var inputTags = callTags;
            inputTags.Add("gen_ai.token.type", "input");
            _tokens.Record(input, inputTags);
        }

        if (trace.CompletionTokens is { } output)
        {
            var outputTags = callTags;
            outputTags.Add("gen_ai.token.type", "output");
            _tokens.Record(output, outputTags);
        }
    }

    /// <summary>The priced cost of a call, recorded once by the cost stage (redelivered traces are not counted again).</summary>
    public void Priced(Trace trace)
    {
        if (trace.Cost is not { } cost)
        {
            return;
        }

        var tags = new TagList { { "gen_ai.provider.name", trace.Provider }, { "gen_ai.request.model", trace.Model ?? "unknown" } };
        AddTenant(ref tags, _options.CurrentValue.TenantAttribute ? trace.TenantId.ToString() : null);
        _cost.Add((double)cost.Total, tags);
    }

    /// <summary>Findings of a processed trace, by type and severity (a redelivered trace on Azure is counted again).</summary>
    public void Found(IEnumerable<Finding> findings)
    {
        foreach (var finding in findings)
        {
            _findings.Add(1, new TagList { { "llmtrace.finding.type", finding.Type }, { "llmtrace.finding.severity", finding.Severity.ToString() } });
        }
    }

    private static void AddTenant(ref TagList tags, string? tenant)
    {
        if (tenant is not null)
        {
            tags.Add("llmtrace.tenant_id", tenant);
        }
    }

    private static string StatusClass(int status) => status switch
    {
        >= 100 and < 600 => (status / 100) + "xx",
        _ => "none",
    };

    private static bool IsRefusal(string code) => code is "rate_limit_exceeded" or "request_exceeds_rate_limit" or "cost_cap_exceeded"
        or "security_violation" or "security_analysis_incomplete" or "too_many_refusals" or "max_tokens_cap_exceeded"
        or "max_tokens_required" or "prompt_tokens_cap_exceeded" or "model_not_priced" or "request_too_large" or "gateway_busy"
        or "invalid_api_key" or "missing_api_key" or "key_cannot_proxy";
}

/// <summary>Telemetry choices. Bound from <c>LlmTrace:Telemetry</c>.</summary>
public sealed class TelemetryOptions
{
    public const string SectionName = "LlmTrace:Telemetry";

    /// <summary>Adds <c>llmtrace.tenant_id</c> to metrics: one series per tenant, so off unless you have few tenants.</summary>
    public bool TenantAttribute { get; set; }

    /// <summary>Sends W3C <c>traceparent</c> to upstreams; off, so the upstream request carries no header the client did not send.</summary>
    public bool PropagateToUpstreams { get; set; }
}
