using System.Globalization;
using System.Text.Json;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Providers;
using LlmTrace.Domain.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace LlmTrace.Domain.Management;

/// <summary>
/// The management API both hosts serve under <c>/api/</c>, routed here so both behave the same: traces, tenants, keys,
/// budgets, spend, findings, the compliance report, the audit log and the OpenAPI document. Also <c>GET /health</c>.
/// </summary>
public sealed class ManagementApi(
    ITraceStore store, ManagementAuthorizer authorizer, TenantsApi tenants, KeysApi keys, BudgetsApi budgets, AuditApi audit, ReportsApi reports,
        PoisonApi poison, HealthCheckService health)
{
    /// <summary>
    /// The one route table: method, path template and handler. The OpenAPI document lists exactly these routes, and a
    /// path that matches a template with another method gets 405 with <c>Allow</c>.
    /// </summary>
    private readonly TenantsApi _tenants = tenants;
    private readonly KeysApi _keys = keys;
    private readonly BudgetsApi _budgets = budgets;
    private readonly AuditApi _audit = audit;
    private readonly ReportsApi _reports = reports;
    private readonly PoisonApi _poison = poison;

    private static readonly ManagementRoute[] Table =
    [
        new(
            "GET",
            "/api/me",
            (api, c, caller, _)
                => WriteJsonAsync(
                    c,
                    StatusCodes.Status200OK,
                    new CallerInfo(caller.IsAdmin, caller.TenantId, caller.Roles, caller.KeyId),
                    ManagementJsonContext.Default.CallerInfo)),
        new("GET", "/api/traces", (api, c, caller, _) => api.ListTracesAsync(c, caller)),
        new("GET", "/api/traces/{traceId}", (api, c, caller, v) => api.GetTraceAsync(c, caller, v["traceId"])),
        new("GET", "/api/tenants", (api, c, caller, _) => api._tenants.ListAsync(c, caller)),
        new("POST", "/api/tenants", (api, c, caller, _) => api._tenants.CreateAsync(c, caller)),
        new("GET", "/api/tenants/{tenantId}", (api, c, caller, v) => api._tenants.GetAsync(c, caller, v.TenantId)),
        new("PATCH", "/api/tenants/{tenantId}", (api, c, caller, v) => api._tenants.PatchAsync(c, caller, v.TenantId)),
        new("DELETE", "/api/tenants/{tenantId}", (api, c, caller, v) => api._tenants.DeleteAsync(c, caller, v.TenantId)),
        new("GET", "/api/tenants/{tenantId}/keys", (api, c, caller, v) => api._keys.ListAsync(c, caller, v.TenantId)),
        new("POST", "/api/tenants/{tenantId}/keys", (api, c, caller, v) => api._keys.CreateAsync(c, caller, v.TenantId)),
        new("DELETE", "/api/tenants/{tenantId}/keys/{keyId}", (api, c, caller, v) => api._keys.RevokeAsync(c, caller, v.TenantId, v["keyId"])),
        new("GET", "/api/tenants/{tenantId}/budget", (api, c, caller, v) => api._budgets.GetAsync(c, caller, v.TenantId)),
        new("PUT", "/api/tenants/{tenantId}/budget", (api, c, caller, v) => api._budgets.PutAsync(c, caller, v.TenantId)),
        new("GET", "/api/spend", (api, c, caller, _) => api._reports.SpendAsync(c, caller)),
        new("GET", "/api/stats", (api, c, caller, _) => api._reports.StatsAsync(c, caller)),
        new("GET", "/api/findings", (api, c, caller, _) => api._reports.FindingsAsync(c, caller)),
        new("GET", "/api/reports/compliance", (api, c, caller, _) => api._reports.ComplianceAsync(c, caller)),
        new("GET", "/api/reports/reconciliation", (api, c, caller, _) => api._reports.ReconciliationAsync(c, caller)),
        new("GET", "/api/audit", (api, c, caller, _) => api._audit.ListAsync(c, caller)),
        new("GET", "/api/poison", (api, c, caller, _) => api._poison.ListAsync(c, caller)),
        new("POST", "/api/poison/{id}/replay", (api, c, caller, v) => api._poison.ReplayAsync(c, caller, v["id"])),
        new("GET", "/api/openapi.json", null),
    ];

    /// <summary>Every route: method and path template.</summary>
    public static IReadOnlyList<(string Method, string Template)> Routes { get; } = [.. Table.Select(r => (r.Method, r.Template))];

    /// <summary>Handles any request under <c>/api/</c>; <paramref name="path"/> is what follows <c>/api/</c>.</summary>
    public async Task HandleAsync(HttpContext context, string? path)
    {
        var segments = (path ?? string.Empty).Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        var method = context.Request.Method.ToUpperInvariant();
        var matches = Table.Select(r => (Route: r, Values: r.Match(segments))).Where(m => m.Values is not null).ToList();
        if (matches.Count == 0)
        {
            await ManagementHttp.NotFoundAsync(context, "route_not_found", $"No management route {context.Request.Method} /api/{path}.").ConfigureAwait(false);
            return;
        }

        if (matches.FirstOrDefault(m => m.Route.Method == method) is not { Route: { } route, Values: { } values })
        {
            var allowed = string.Join(", ", matches.Select(m => m.Route.Method));
            context.Response.Headers.Allow = allowed;
            await GatewayErrors.WriteAsync(context, ProviderKind.OpenAI, StatusCodes.Status405MethodNotAllowed, "invalid_request_error", "method_not_allowed",
                $"{matches[0].Route.Template} allows {allowed}.").ConfigureAwait(false);
            return;
        }

        if (route.Handler is null)
        {
            // The API's own description: public, like /health.
            await OpenApiDocument.WriteAsync(context).ConfigureAwait(false);
            return;
        }

        var caller = await authorizer.AuthenticateAsync(context).ConfigureAwait(false);
        if (caller is null)
        {
            return;
        }

        if (values.TryGetValue("tenantId", out var tenantText))
        {
            if (!Guid.TryParse(tenantText, out var tenantId))
            {
                await ManagementHttp.InvalidAsync(context, "tenantId", "tenantId must be a UUID.").ConfigureAwait(false);
                return;
            }

            values.TenantId = tenantId;
        }

        await route.Handler(this, context, caller, values).ConfigureAwait(false);
    }

    private async Task ListTracesAsync(HttpContext context, Caller caller)
    {
        if (!TryParseQuery(context.Request.Query, out var query, out var param, out var problem))
        {
            await InvalidAsync(context, param, problem).ConfigureAwait(false);
            return;
        }

        if (!caller.IsAdmin)
        {
            if (query.TenantId is { } asked && asked != caller.TenantId)
            {
                await ManagementAuthorizer.ForbiddenAsync(context, "This key may not read another tenant's traces.").ConfigureAwait(false);
                return;
            }

            query = query with { TenantId = caller.TenantId };
        }

        var page = await store.QueryAsync(query, context.RequestAborted).ConfigureAwait(false);
        await WriteJsonAsync(context, StatusCodes.Status200OK, page, CaptureJsonContext.Default.TracePage).ConfigureAwait(false);
    }

    private async Task GetTraceAsync(HttpContext context, Caller caller, string traceId)
    {
        if (!Guid.TryParse(traceId, out var id))
        {
            await InvalidAsync(context, "traceId", "traceId must be a UUID.").ConfigureAwait(false);
            return;
        }

        var trace = await store.GetAsync(id, context.RequestAborted).ConfigureAwait(false);
        // Another tenant's trace is answered exactly like a missing one: its existence is not disclosed.
        if (trace is null || !caller.CanRead(trace.TenantId))
        {
            await GatewayErrors.WriteAsync(context, ProviderKind.OpenAI, StatusCodes.Status404NotFound, "not_found_error", "trace_not_found",
                $"No trace {id}.").ConfigureAwait(false);
            return;
        }

        await WriteJsonAsync(context, StatusCodes.Status200OK, trace, CaptureJsonContext.Default.Trace).ConfigureAwait(false);
    }

    /// <summary>The tag of the health checks <c>/health/ready</c> runs.</summary>
    public const string ReadyTag = "ready";

    /// <summary>Liveness: the process answers. Runs no check, so a slow store never gets a live process restarted.</summary>
    public static Task LiveAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsync("""{"status":"alive"}""", context.RequestAborted);
    }

    /// <summary>
    /// Readiness: started (journal replayed, models loaded) and the trace store reachable; 503 until then. For startup
    /// and readiness probes and the Functions health check path. Needs no key.
    /// </summary>
    public Task ReadyAsync(HttpContext context) => WriteHealthAsync(context, check => check.Tags.Contains(ReadyTag));

    /// <summary>Status of each dependency; 200 when all are healthy or degraded, 503 when any is unhealthy. Needs no key.</summary>
    public Task HealthAsync(HttpContext context) => WriteHealthAsync(context, null);

    private async Task WriteHealthAsync(HttpContext context, Func<HealthCheckRegistration, bool>? predicate)
    {
        var report = await health.CheckHealthAsync(predicate, context.RequestAborted).ConfigureAwait(false);
        context.Response.StatusCode = report.Status == HealthStatus.Unhealthy ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using var writer = new Utf8JsonWriter(buffer);
        writer.WriteStartObject();
        writer.WriteString("status", Name(report.Status));
        writer.WriteNumber("durationMs", Math.Round(report.TotalDuration.TotalMilliseconds, 1));
        writer.WriteStartObject("dependencies");
        foreach (var (name, entry) in report.Entries)
        {
            writer.WriteStartObject(name);
            writer.WriteString("status", Name(entry.Status));
            if (entry.Description is not null)
            {
                writer.WriteString("description", entry.Description);
            }

            foreach (var (key, value) in entry.Data)
            {
                writer.WriteString(key, Convert.ToString(value, CultureInfo.InvariantCulture));
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
        writer.Flush();
        context.Response.ContentLength = buffer.WrittenCount;
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }

    internal static bool TryParseQuery(IQueryCollection values, out TraceQuery query, out string? param, out string? problem)
    {
        query = new TraceQuery();
        param = null;
        problem = null;
        if (values.TryGetValue("tenantId", out var tenant))
        {
            if (!Guid.TryParse(tenant, out var tenantId))
            {
                (param, problem) = ("tenantId", "tenantId must be a UUID.");
                return false;
            }

            query = query with { TenantId = tenantId };
        }

        if (values.TryGetValue("provider", out var provider))
        {
            if (!ProviderKindExtensions.TryParseWireName(provider, out var kind))
            {
                (param, problem) = ("provider", "provider must be one of openai, azure-openai, anthropic, gemini, openai-compatible, unknown.");
                return false;
            }

            query = query with { Provider = kind.ToWireName() };
        }

        if (values.TryGetValue("status", out var status))
        {
            if (status.ToString() is not ("ok" or "error"))
            {
                (param, problem) = ("status", "status must be ok (answered, 200–399) or error (4xx, 5xx or no answer).");
                return false;
            }

            query = query with { Succeeded = status == "ok" };
        }

        if (values.TryGetValue("findings", out var findings))
        {
            if (!bool.TryParse(findings, out var hasFindings))
            {
                (param, problem) = ("findings", "findings must be true or false.");
                return false;
            }

            query = query with { HasFindings = hasFindings };
        }

        query = query with
        {
            AgentId = NullIfEmpty(values["agentId"]),
            Model = NullIfEmpty(values["model"]),
        };

        foreach (var name in (ReadOnlySpan<string>)["since", "until"])
        {
            if (!values.TryGetValue(name, out var raw))
            {
                continue;
            }

            if (!DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
            {
                (param, problem) = (name, $"{name} must be an ISO 8601 date-time.");
                return false;
            }

            query = name == "since" ? query with { Since = at } : query with { Until = at };
        }

        if (values.ContainsKey("limit"))
        {
            if (!ManagementPaging.TryLimit(values, out var limit))
            {
                (param, problem) = ("limit", ManagementPaging.Problem);
                return false;
            }

            query = query with { Limit = limit };
        }

        if (values.TryGetValue("continuationToken", out var token))
        {
            if (!TraceCursor.TryDecode(token, out var cursor))
            {
                (param, problem) = ("continuationToken", "continuationToken is not one this API issued.");
                return false;
            }

            query = query with { After = cursor };
        }

        return true;
    }

    private static Task InvalidAsync(HttpContext context, string? param, string? message)
        => GatewayErrors.WriteAsync(
            context, ProviderKind.OpenAI, StatusCodes.Status400BadRequest, "invalid_request_error", "invalid_parameter", message ?? "Invalid request.", param);

    private static async Task WriteJsonAsync<T>(HttpContext context, int status, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        await JsonSerializer.SerializeAsync(context.Response.Body, value, typeInfo, context.RequestAborted).ConfigureAwait(false);
    }

    private static string? NullIfEmpty(Microsoft.Extensions.Primitives.StringValues value)
        => string.IsNullOrWhiteSpace(value) ? null : value.ToString();

    private static string Name(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => "healthy",
        HealthStatus.Degraded => "degraded",
        _ => "unhealthy",
    };
}
