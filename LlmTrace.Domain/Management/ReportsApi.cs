using System.Globalization;
using System.Text;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Tenancy;
using Microsoft.AspNetCore.Http;

namespace LlmTrace.Domain.Management;

/// <summary>
/// Read-only views computed from stored traces: spend by model, agent or day; findings; and the compliance report.
/// Each request reads at most <see cref="MaxScan"/> traces and says when it was truncated.
/// </summary>
public sealed class ReportsApi(ITraceStore traces, AuditLog audit, Stats.ITrafficStatsStore stats, TimeProvider timeProvider)
{
    public const int MaxScan = 100_000;
    private const int FindingScanPerPage = 5_000;

    public async Task SpendAsync(HttpContext context, Caller caller)
    {
        var query = context.Request.Query;
        var groupBy = query["groupBy"].ToString() is { Length: > 0 } g ? g : "model";
        if (groupBy is not ("model" or "agent" or "day"))
        {
            await ManagementHttp.InvalidAsync(context, "groupBy", "groupBy must be model, agent or day.").ConfigureAwait(false);
            return;
        }

        var (ok, tenantId, from, to) = await ScopeAndRangeAsync(context, caller).ConfigureAwait(false);
        if (!ok)
        {
            return;
        }

        var agentId = query["agentId"].ToString() is { Length: > 0 } a ? a : null;
        var groups = new Dictionary<string, (decimal Cost, long Requests, long Prompt, long Completion, long Unpriced)>(StringComparer.Ordinal);
        var truncated = await ScanAsync(new TraceQuery { TenantId = tenantId, AgentId = agentId, Since = from, Until = to }, trace =>
        {
            if (trace.StatusCode is < 200 or >= 300 && trace.PromptTokens is null)
            {
                return; // Refused or failed before the provider: no spend.
            }

            var key = groupBy switch
            {
                "agent" => trace.AgentId ?? "(none)",
                "day" => trace.StartedAt.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                _ => trace.Cost?.PricedAs ?? trace.Model ?? "(unknown)",
            };
            var current = groups.GetValueOrDefault(key);
            groups[key] = (current.Cost + (trace.Cost?.Total ?? 0m), current.Requests + 1, current.Prompt + (trace.PromptTokens ?? 0),
                current.Completion + (trace.CompletionTokens ?? 0), current.Unpriced + (trace.Priced == false ? 1 : 0));
        }, context.RequestAborted).ConfigureAwait(false);

        var rows = groups.Select(kv => new SpendGroup(kv.Key, kv.Value.Cost, kv.Value.Requests, kv.Value.Prompt, kv.Value.Completion, kv.Value.Unpriced))
            .OrderByDescending(r => groupBy == "day" ? 0 : r.CostUsd).ThenBy(r => r.Key, StringComparer.Ordinal).ToList();
        var report = new SpendReport(tenantId, agentId, from, to, groupBy, rows.Sum(r => r.CostUsd), rows.Sum(r => r.Requests), rows, truncated);
        await ManagementHttp.WriteJsonAsync(context, 200, report, ManagementJsonContext.Default.SpendReport).ConfigureAwait(false);
    }

    /// <summary>
    /// What the gateway counted per provider and model, to set beside the provider's invoice: calls, tokens (with cache
    /// reads and writes) and cost, and how many calls were estimated, had impossible usage or could not be priced.
    /// </summary>
    public async Task ReconciliationAsync(HttpContext context, Caller caller)
    {
        var (ok, tenantId, from, to) = await ScopeAndRangeAsync(context, caller).ConfigureAwait(false);
        if (!ok)
        {
            return;
        }

        var rows = new Dictionary<(string Provider, string Model), ReconciliationRow>();
        var truncated = await ScanAsync(new TraceQuery { TenantId = tenantId, Since = from, Until = to }, trace =>
        {
            if (trace.PromptTokens is null && trace.CompletionTokens is null)
            {
                return; // Refused or failed before the provider: nothing to reconcile.
            }

            var key = (trace.Provider, trace.Model ?? "(unknown)");
            var row = rows.GetValueOrDefault(key) ?? new ReconciliationRow(key.Provider, key.Item2, null, 0, 0, 0, 0, 0, 0m, 0, 0, 0);
            rows[key] = row with
            {
                PricedAs = row.PricedAs ?? trace.Cost?.PricedAs,
                Calls = row.Calls + 1,
                PromptTokens = row.PromptTokens + (trace.PromptTokens ?? 0),
                CachedPromptTokens = row.CachedPromptTokens + (trace.CachedPromptTokens ?? 0),
                CacheWriteTokens = row.CacheWriteTokens + (trace.CacheWriteTokens ?? 0),
                CompletionTokens = row.CompletionTokens + (trace.CompletionTokens ?? 0),
                CostUsd = row.CostUsd + (trace.Cost?.Total ?? 0m),
                EstimatedCalls = row.EstimatedCalls + (trace.UsageEstimated ? 1 : 0),
                InvalidUsageCalls = row.InvalidUsageCalls + (trace.UsageInvalid ? 1 : 0),
                UnpricedCalls = row.UnpricedCalls + (trace.Priced == false ? 1 : 0),
            };
        }, context.RequestAborted).ConfigureAwait(false);

        var ordered = rows.Values
            .OrderBy(r => r.Provider, StringComparer.Ordinal)
            .ThenByDescending(r => r.CostUsd)
            .ThenBy(r => r.Model, StringComparer.Ordinal)
            .ToList();
        var report = new ReconciliationReport(tenantId, from, to, ordered.Sum(r => r.CostUsd), ordered.Sum(r => r.Calls), ordered, truncated);
        await ManagementHttp.WriteJsonAsync(context, 200, report, ManagementJsonContext.Default.ReconciliationReport).ConfigureAwait(false);
    }

    /// <summary>Findings newest first, filtered by type, minimum severity and time; paged by the trace they belong to.</summary>
    /// <summary>
    /// <c>GET /api/stats</c>: requests, errors, latency and time-to-first-token percentiles, tokens, cost and findings per
    /// bucket, from the pre-aggregated counters (never a trace scan), so it answers as fast at millions of traces as at ten.
    /// </summary>
    public async Task StatsAsync(HttpContext context, Caller caller)
    {
        var (ok, tenantId, from, to) = await ScopeAndRangeAsync(context, caller, TimeSpan.FromHours(1)).ConfigureAwait(false);
        if (!ok)
        {
            return;
        }

        var query = context.Request.Query;
        var bucket = query["bucket"].ToString() is { Length: > 0 } b ? b : Stats.TrafficReport.DefaultBucket(to - from);
        if (bucket is not ("minute" or "hour" or "day"))
        {
            await ManagementHttp.InvalidAsync(context, "bucket", "bucket must be minute, hour or day.").ConfigureAwait(false);
            return;
        }

        if ((to - from) / Stats.TrafficReport.BucketLength(bucket) > Stats.TrafficReport.MaxPoints)
        {
            await ManagementHttp.InvalidAsync(context, "bucket",
                $"A {bucket} bucket gives more than {Stats.TrafficReport.MaxPoints} points over this range; ask for a longer bucket or a shorter range.").ConfigureAwait(false);
            return;
        }

        var scope = Stats.TrafficStats.ScopeOf(tenantId);
        var hourFrom = Stats.TrafficStats.Floor(from, TimeSpan.FromHours(1));
        var dayStart = Stats.TrafficStats.Floor(from, Stats.TrafficReport.BucketLength(bucket));
        var hours = await stats.ReadAsync(
            scope, Stats.StatsResolution.Hour, bucket == "day" ? dayStart : hourFrom, to, context.RequestAborted).ConfigureAwait(false);
        var rows = bucket == "minute"
            ? await stats.ReadAsync(
                scope, Stats.StatsResolution.Minute, Stats.TrafficStats.Floor(from, TimeSpan.FromMinutes(1)), to, context.RequestAborted).ConfigureAwait(false)
            : hours;
        var report = Stats.TrafficReport.Build(from, to, bucket, tenantId, rows, hours, withTenants: tenantId is null);
        context.Response.Headers.CacheControl = "no-store";
        await ManagementHttp.WriteJsonAsync(context, StatusCodes.Status200OK, report, Stats.StatsJsonContext.Default.TrafficReport).ConfigureAwait(false);
    }

    public async Task FindingsAsync(HttpContext context, Caller caller)
    {
        var query = context.Request.Query;
        var (ok, tenantId) = await ScopeAsync(context, caller).ConfigureAwait(false);
        if (!ok)
        {
            return;
        }

        var type = query["type"].ToString() is { Length: > 0 } t ? t : null;
        FindingSeverity? minimum = null;
        if (query["severity"].ToString() is { Length: > 0 } severityText)
        {
            if (!TryParseSeverity(severityText, out var parsed))
            {
                await ManagementHttp.InvalidAsync(
                    context, "severity", "severity must be info, low, medium, high or critical (the minimum to include).").ConfigureAwait(false);
                return;
            }

            minimum = parsed;
        }

        if (!TryDate(query, "since", out var since) || !TryDate(query, "until", out var until))
        {
            await ManagementHttp.InvalidAsync(context, "since", "since and until must be ISO 8601 date-times.").ConfigureAwait(false);
            return;
        }

        if (!ManagementPaging.TryLimit(query, out var limit))
        {
            await ManagementHttp.InvalidAsync(context, "limit", ManagementPaging.Problem).ConfigureAwait(false);
            return;
        }

        TraceCursor? after = null;
        if (query["continuationToken"].ToString() is { Length: > 0 } token)
        {
            if (!TraceCursor.TryDecode(token, out var cursor))
            {
                await ManagementHttp.InvalidAsync(context, "continuationToken", "continuationToken is not one this API issued.").ConfigureAwait(false);
                return;
            }

            after = cursor;
        }

        var items = new List<FindingView>();
        var scanned = 0;
        TraceCursor? last = null;
        var exhausted = false;
        while (items.Count < limit && scanned < FindingScanPerPage)
        {
            var page = await traces.QueryAsync(
                new TraceQuery { TenantId = tenantId, HasFindings = true, Since = since, Until = until, After = after, Limit = 200 },
                context.RequestAborted).ConfigureAwait(false);
            foreach (var trace in page.Items)
            {
                scanned++;
                last = new TraceCursor(trace.StartedAt, trace.TraceId);
                items.AddRange(trace.Findings
                    .Where(f => (type is null || f.Type == type) && (minimum is null || f.Severity >= minimum))
                    .Select(f => new FindingView(trace.TraceId, trace.TenantId, trace.StartedAt, trace.Model, f)));
                if (items.Count >= limit)
                {
                    break;
                }
            }

            if (page.ContinuationToken is null && (last is null || items.Count < limit))
            {
                exhausted = true;
                break;
            }

            after = last;
        }

        await ManagementHttp.WriteJsonAsync(
            context, 200, new FindingPage(items, exhausted ? null : last?.Encode()), ManagementJsonContext.Default.FindingPage).ConfigureAwait(false);
    }

    /// <summary>What happened for a tenant (or all, for an administrator) in a period, as JSON or (<c>format=csv</c>) CSV.</summary>
    public async Task ComplianceAsync(HttpContext context, Caller caller)
    {
        var query = context.Request.Query;
        var format = query["format"].ToString() is { Length: > 0 } f
            ? f
            : context.Request.Headers.Accept.ToString().Contains("text/csv", StringComparison.OrdinalIgnoreCase)
            ? "csv"
            : "json";
        if (format is not ("json" or "csv"))
        {
            await ManagementHttp.InvalidAsync(context, "format", "format must be json or csv.").ConfigureAwait(false);
            return;
        }

        var (ok, tenantId, from, to) = await ScopeAndRangeAsync(context, caller).ConfigureAwait(false);
        if (!ok)
        {
            return;
        }

        long requests = 0, failed = 0, blocked = 0, rateLimited = 0, capped = 0, flagged = 0, pii = 0, secrets = 0;
        var spend = 0m;
        var byType = new Dictionary<string, long>(StringComparer.Ordinal);
        var bySeverity = new Dictionary<string, long>(StringComparer.Ordinal);
        var piiByLocation = new Dictionary<string, long>(StringComparer.Ordinal);
        var truncated = await ScanAsync(new TraceQuery { TenantId = tenantId, Since = from, Until = to }, trace =>
        {
            requests++;
            failed += trace.StatusCode is >= 400 or 0 ? 1 : 0;
            blocked += trace.Error == "security_violation" ? 1 : 0;
            rateLimited += trace.Error == "rate_limit_exceeded" ? 1 : 0;
            capped += trace.Error == "cost_cap_exceeded" ? 1 : 0;
            flagged += trace.Findings.Any(x => x.Detector.StartsWith(Security.RequestGuard.DetectorPrefix, StringComparison.Ordinal))
                && trace.Error != "security_violation"
                ? 1
                : 0;
            spend += trace.Cost?.Total ?? 0m;
            foreach (var finding in trace.Findings)
            {
                byType[finding.Type] = byType.GetValueOrDefault(finding.Type) + 1;
                var severity = SeverityName(finding.Severity);
                bySeverity[severity] = bySeverity.GetValueOrDefault(severity) + 1;
                if (finding.Type == "pii")
                {
                    pii++;
                    piiByLocation[finding.Location] = piiByLocation.GetValueOrDefault(finding.Location) + 1;
                }
                else if (finding.Type == "secret" && finding.Detector.StartsWith(Security.CaptureRedactor.DetectorPrefix, StringComparison.Ordinal))
                {
                    secrets++;
                }
            }
        }, context.RequestAborted).ConfigureAwait(false);

        var actions = new Dictionary<string, long>(StringComparer.Ordinal);
        string? after = null;
        do
        {
            var (entries, next) = await audit.QueryAsync(tenantId, from, to, after, 500, context.RequestAborted).ConfigureAwait(false);
            foreach (var entry in entries)
            {
                actions[entry.Action] = actions.GetValueOrDefault(entry.Action) + 1;
            }

            after = next;
        }
        while (after is not null);

        var report = new ComplianceReport(tenantId, from, to, timeProvider.GetUtcNow(), requests, failed, blocked, rateLimited, capped, flagged,
            Rows(byType), Rows(bySeverity), pii, Rows(piiByLocation), secrets, spend, Rows(actions), truncated);
        if (format == "json")
        {
            await ManagementHttp.WriteJsonAsync(context, 200, report, ManagementJsonContext.Default.ComplianceReport).ConfigureAwait(false);
            return;
        }

        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/csv; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.ContentDisposition = string.Create(
            CultureInfo.InvariantCulture, $"attachment; filename=\"compliance-{(tenantId?.ToString() ?? "all")}-{from:yyyyMMdd}-{to:yyyyMMdd}.csv\"");
        await context.Response.WriteAsync(ToCsv(report), Encoding.UTF8, context.RequestAborted).ConfigureAwait(false);
    }

    internal static string ToCsv(ComplianceReport report)
    {
        var csv = new StringBuilder("section,key,value\n");
        void Row(string section, string key, string value)
            => csv.Append(Field(section)).Append(',').Append(Field(key)).Append(',').Append(Field(value)).Append('\n');
        string Number(decimal value) => value.ToString(CultureInfo.InvariantCulture);
        Row("report", "tenantId", report.TenantId?.ToString() ?? "all");
        Row("report", "from", report.From.ToString("O", CultureInfo.InvariantCulture));
        Row("report", "to", report.To.ToString("O", CultureInfo.InvariantCulture));
        Row("report", "generatedAt", report.GeneratedAt.ToString("O", CultureInfo.InvariantCulture));
        Row("report", "truncated", report.Truncated ? "true" : "false");
        Row("requests", "total", Number(report.Requests));
        Row("requests", "failed", Number(report.FailedRequests));
        Row("requests", "blocked", Number(report.BlockedCalls));
        Row("requests", "rateLimited", Number(report.RateLimitedCalls));
        Row("requests", "costCapped", Number(report.CostCappedCalls));
        Row("requests", "flagged", Number(report.FlaggedCalls));
        foreach (var row in report.FindingsByType)
        {
            Row("findingsByType", row.Key, Number(row.Count));
        }

        foreach (var row in report.FindingsBySeverity)
        {
            Row("findingsBySeverity", row.Key, Number(row.Count));
        }

        Row("pii", "exposures", Number(report.PiiExposures));
        foreach (var row in report.PiiExposuresByLocation)
        {
            Row("piiByLocation", row.Key, Number(row.Count));
        }

        Row("secrets", "redacted", Number(report.SecretsRedacted));
        Row("spend", "usd", Number(report.SpendUsd));
        foreach (var row in report.ManagementActions)
        {
            Row("managementActions", row.Key, Number(row.Count));
        }

        return csv.ToString();
    }

    internal static bool TryDate(IQueryCollection query, string name, out DateTimeOffset? value)
    {
        value = null;
        var text = query[name].ToString();
        if (text.Length == 0)
        {
            return true;
        }

        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            return false;
        }

        value = parsed;
        return true;
    }

    /// <summary>The tenant the caller may report on: theirs for a tenant key (another one is refused), any or all for an administrator.</summary>
    private static Task<(bool Ok, Guid? TenantId)> ScopeAsync(HttpContext context, Caller caller)
        => TenantResource.QueryScopeAsync(context, caller, static (c, id) => c.CanRead(id), "This key may not read another tenant's data.");

    /// <summary>The tenant scope, then the time range; not ok when either is refused (the answer has been written).</summary>
    /// <param name="defaultSpan">How far back <c>from</c> lies when it is not given (30 days unless said).</param>
    private async Task<(bool Ok, Guid? TenantId, DateTimeOffset From, DateTimeOffset To)> ScopeAndRangeAsync(
        HttpContext context, Caller caller, TimeSpan? defaultSpan = null)
    {
        var (ok, tenantId) = await ScopeAsync(context, caller).ConfigureAwait(false);
        if (!ok)
        {
            return (false, null, default, default);
        }

        var (rangeOk, from, to) = await RangeAsync(context, defaultSpan ?? TimeSpan.FromDays(30)).ConfigureAwait(false);
        return (rangeOk, tenantId, from, to);
    }

    /// <summary><c>from</c>/<c>to</c> (default: <paramref name="defaultSpan"/> up to now); not ok when invalid (the 400 has been written).</summary>
    private async Task<(bool Ok, DateTimeOffset From, DateTimeOffset To)> RangeAsync(HttpContext context, TimeSpan defaultSpan)
    {
        var query = context.Request.Query;
        if (!TryDate(query, "from", out var f) || !TryDate(query, "to", out var t))
        {
            await ManagementHttp.InvalidAsync(context, "from", "from and to must be ISO 8601 date-times.").ConfigureAwait(false);
            return (false, default, default);
        }

        var to = t ?? timeProvider.GetUtcNow();
        var from = f ?? to - defaultSpan;
        if (from >= to)
        {
            await ManagementHttp.InvalidAsync(context, "from", "from must be before to.").ConfigureAwait(false);
            return (false, default, default);
        }

        return (true, from, to);
    }

    private async Task<bool> ScanAsync(TraceQuery query, Action<Trace> visit, CancellationToken cancellationToken)
    {
        var scanned = 0;
        query = query with { Limit = TraceQuery.MaxLimit };
        while (true)
        {
            var page = await traces.QueryAsync(query, cancellationToken).ConfigureAwait(false);
            foreach (var trace in page.Items)
            {
                visit(trace);
                if (++scanned >= MaxScan)
                {
                    return true;
                }
            }

            if (page.ContinuationToken is null || page.Items.Count == 0)
            {
                return false;
            }

            var lastTrace = page.Items[^1];
            query = query with { After = new TraceCursor(lastTrace.StartedAt, lastTrace.TraceId) };
        }
    }

    private static List<CountRow> Rows(Dictionary<string, long> counts)
        => [.. counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new CountRow(kv.Key, kv.Value))];

    private static string Field(string value)
        => value.AsSpan().IndexOfAny(",\"\n\r") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;

    private static string SeverityName(FindingSeverity severity) => severity.ToString().ToLowerInvariant();

    private static bool TryParseSeverity(string text, out FindingSeverity severity)
        => Enum.TryParse(text, ignoreCase: true, out severity) && Enum.IsDefined(severity) && !char.IsDigit(text[0]);
}
