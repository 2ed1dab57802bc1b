using LlmTrace.Domain.Budgets;
using LlmTrace.Domain.Capture;

namespace LlmTrace.Domain.Stats;

/// <summary>
/// The running counters of one scope (a tenant, or every tenant) in one time bucket: requests, errors, tokens, cost,
/// latency and time-to-first-token histograms, and findings. Hour buckets also break requests down by model and agent
/// (and by tenant in the all-tenants scope), each list bounded so a client inventing names cannot grow a row without
/// limit. Counters only ever add, so buckets merge into longer ones exactly.
/// </summary>
public sealed class TrafficCounters
{
    /// <summary>Entries kept per breakdown; calls beyond them count under <see cref="Other"/>.</summary>
    public const int MaxBreakdownEntries = 50;

    /// <summary>The breakdown entry that collects everything past <see cref="MaxBreakdownEntries"/>.</summary>
    public const string Other = "(other)";

    public long Requests { get; set; }

    /// <summary>Answers with a 4xx status (refusals by the gateway included).</summary>
    public long ClientErrors { get; set; }

    /// <summary>Answers with a 5xx status, and calls that got no answer at all.</summary>
    public long ServerErrors { get; set; }

    public long Streams { get; set; }

    public long PromptTokens { get; set; }

    public long CompletionTokens { get; set; }

    /// <summary>Cost in nano-dollars, so sums stay exact.</summary>
    public long NanoUsd { get; set; }

    /// <summary>Call durations in <see cref="LatencyHistogram"/> bins.</summary>
    public long[] Latency { get; set; } = new long[LatencyHistogram.BinCount];

    /// <summary>Times to first byte, for calls that had one.</summary>
    public long[] Ttft { get; set; } = new long[LatencyHistogram.BinCount];

    /// <summary>Findings by severity, indexed by <see cref="FindingSeverity"/>.</summary>
    public long[] Findings { get; set; } = new long[5];

    /// <summary>Calls with at least one finding.</summary>
    public long FlaggedRequests { get; set; }

    /// <summary>Calls the security policy refused (403), stopped mid-stream, or did not forward because it could not check them.</summary>
    public long BlockedRequests { get; set; }

    public Dictionary<string, long>? FindingTypes { get; set; }

    public Dictionary<string, Breakdown>? Models { get; set; }

    public Dictionary<string, Breakdown>? Agents { get; set; }

    public Dictionary<string, Breakdown>? Tenants { get; set; }

    /// <summary>Adds one call. <paramref name="detail"/> adds it to the model, agent and finding-type breakdowns too.</summary>
    public void Add(Trace trace, bool detail, bool byTenant)
    {
        Requests++;
        if (trace.StatusCode is >= 400 and < 500)
        {
            ClientErrors++;
        }
        else if (trace.StatusCode >= 500 || trace.StatusCode <= 0)
        {
            ServerErrors++;
        }

        Streams += trace.Streaming ? 1 : 0;
        PromptTokens += Math.Max(0, trace.PromptTokens ?? 0);
        CompletionTokens += Math.Max(0, trace.CompletionTokens ?? 0);
        var nanoUsd = SpendMath.ToNanoUsd(trace.Cost?.Total ?? 0);
        NanoUsd += nanoUsd;
        Latency[LatencyHistogram.Bin(trace.DurationMs)]++;
        if (trace.TtftMs is { } ttft)
        {
            Ttft[LatencyHistogram.Bin(ttft)]++;
        }

        foreach (var finding in trace.Findings)
        {
            Findings[Math.Clamp((int)finding.Severity, 0, Findings.Length - 1)]++;
        }

        FlaggedRequests += trace.Findings.Count > 0 ? 1 : 0;
        BlockedRequests += IsBlocked(trace) ? 1 : 0;
        if (!detail)
        {
            return;
        }

        var one = new Breakdown
        {
            Requests = 1,
            Errors = trace.StatusCode is >= 400 or <= 0 ? 1 : 0,
            Tokens = Math.Max(0, trace.PromptTokens ?? 0) + Math.Max(0, trace.CompletionTokens ?? 0),
            NanoUsd = nanoUsd,
            Findings = trace.Findings.Count,
        };
        Models = AddTo(Models, trace.Cost?.PricedAs ?? trace.Model ?? "(unknown)", one);
        Agents = AddTo(Agents, trace.AgentId ?? "(none)", one);
        if (byTenant)
        {
            Tenants = AddTo(Tenants, trace.TenantId.ToString("D"), one);
        }

        foreach (var finding in trace.Findings)
        {
            FindingTypes ??= new(StringComparer.Ordinal);
            var type = FindingTypes.Count < MaxBreakdownEntries || FindingTypes.ContainsKey(finding.Type) ? finding.Type : Other;
            FindingTypes[type] = FindingTypes.GetValueOrDefault(type) + 1;
        }
    }

    /// <summary>Adds another bucket's counters to these.</summary>
    public void Merge(TrafficCounters other)
    {
        Requests += other.Requests;
        ClientErrors += other.ClientErrors;
        ServerErrors += other.ServerErrors;
        Streams += other.Streams;
        PromptTokens += other.PromptTokens;
        CompletionTokens += other.CompletionTokens;
        NanoUsd += other.NanoUsd;
        FlaggedRequests += other.FlaggedRequests;
        BlockedRequests += other.BlockedRequests;
        AddArray(Latency, other.Latency);
        AddArray(Ttft, other.Ttft);
        AddArray(Findings, other.Findings);
        foreach (var (type, count) in other.FindingTypes ?? [])
        {
            FindingTypes ??= new(StringComparer.Ordinal);
            FindingTypes[type] = FindingTypes.GetValueOrDefault(type) + count;
        }

        Models = MergeInto(Models, other.Models);
        Agents = MergeInto(Agents, other.Agents);
        Tenants = MergeInto(Tenants, other.Tenants);
    }

    /// <summary>Refused or stopped by the security policy (the error codes the proxy records for those outcomes).</summary>
    public static bool IsBlocked(Trace trace)
        => trace.Error is { } error
            && (error == "security_violation" || error == "security_analysis_incomplete" || error.StartsWith("stream_stopped", StringComparison.Ordinal));

    private static void AddArray(long[] into, long[]? from)
    {
        if (from is null)
        {
            return;
        }

        for (var i = 0; i < Math.Min(into.Length, from.Length); i++)
        {
            into[i] += from[i];
        }
    }

    private static Dictionary<string, Breakdown> AddTo(Dictionary<string, Breakdown>? map, string name, Breakdown add)
    {
        map ??= new(StringComparer.Ordinal);
        if (map.Count >= MaxBreakdownEntries && !map.ContainsKey(name))
        {
            name = Other;
        }

        map[name] = map.TryGetValue(name, out var existing) ? existing.Plus(add) : add;
        return map;
    }

    // Merging for a read is not bounded: a range's list is at most the buckets' lists together.
    private static Dictionary<string, Breakdown>? MergeInto(Dictionary<string, Breakdown>? into, Dictionary<string, Breakdown>? from)
    {
        if (from is null)
        {
            return into;
        }

        into ??= new(StringComparer.Ordinal);
        foreach (var (name, value) in from)
        {
            into[name] = into.TryGetValue(name, out var existing) ? existing.Plus(value) : value;
        }

        return into;
    }
}

/// <summary>Requests, errors, tokens, cost and findings of one model, agent or tenant within a bucket.</summary>
public sealed record Breakdown
{
    public long Requests { get; init; }

    public long Errors { get; init; }

    public long Tokens { get; init; }

    public long NanoUsd { get; init; }

    public long Findings { get; init; }

    public Breakdown Plus(Breakdown other) => new()
    {
        Requests = Requests + other.Requests,
        Errors = Errors + other.Errors,
        Tokens = Tokens + other.Tokens,
        NanoUsd = NanoUsd + other.NanoUsd,
        Findings = Findings + other.Findings,
    };
}
