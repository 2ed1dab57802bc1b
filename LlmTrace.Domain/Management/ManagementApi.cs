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
public sealed class ManagementApi(ITraceStore store, ManagementAuthorizer authorizer, TenantsApi tenants, ReportsApi reports, PoisonApi poison, HealthCheckService health)
{
    /// <summary>Every route: method and path template. The OpenAPI document lists exactly these.</summary>
    public static IReadOnlyList<(string Method, string Template)> Routes { get; } =
    [
        ("GET", "/api/traces"),
        ("GET", "/api/traces/{traceId}"),
        ("GET", "/api/tenants"),
        ("POST", "/api/tenants"),
        ("GET", "/api/tenants/{tenantId}"),
        ("PATCH", "/api/tenants/{tenantId}"),
        ("DELETE", "/api/tenants/{tenantId}"),
        ("GET", "/api/tenants/{tenantId}/keys"),
        ("POST", "/api/tenants/{tenantId}/keys"),
        ("DELETE", "/api/tenants/{tenantId}/keys/{keyId}"),
        ("GET", "/api/tenants/{tenantId}/budget"),
        ("PUT", "/api/tenants/{tenantId}/budget"),
        ("GET", "/api/spend"),
        ("GET", "/api/findings"),
        ("GET", "/api/reports/compliance"),
        ("GET", "/api/reports/reconciliation"),
        ("GET", "/api/audit"),
        ("GET", "/api/poison"),
        ("POST", "/api/poison/{id}/replay"),
        ("GET", "/api/openapi.json"),
    ];

    /// <summary>Handles any request under <c>/api/</c>; <paramref name="path"/> is what follows <c>/api/</c>.</summary>
    public async Task HandleAsync(HttpContext context, string? path)
    {
        var segments = (path ?? string.Empty).Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        var method = context.Request.Method.ToUpperInvariant();
        var template = Match(segments);
        if (template is null)
        {
            await ManagementHttp.NotFoundAsync(context, "route_not_found", $"No management route {context.Request.Method} /api/{path}.").ConfigureAwait(false);
            return;
        }

        var allowed = Routes.Where(r => r.Template == template).Select(r => r.Method).ToList();
        if (!allowed.Contains(method))
        {
            context.Response.Headers.Allow = string.Join(", ", allowed);
            await GatewayErrors.WriteAsync(context, ProviderKind.OpenAI, StatusCodes.Status405MethodNotAllowed, "invalid_request_error", "method_not_allowed",
                $"{template} allows {string.Join(", ", allowed)}.").ConfigureAwait(false);
            return;
        }

        if (template == "/api/openapi.json")
        {
            await OpenApiDocument.WriteAsync(context).ConfigureAwait(false);
            return;
        }

        var caller = await authorizer.AuthenticateAsync(context).ConfigureAwait(false);
        if (caller is null)
        {
            return;
        }

        Guid tenantId = default;
        if (segments is ["tenants", var tenantText, ..] && !Guid.TryParse(tenantText, out tenantId))
        {
            await ManagementHttp.InvalidAsync(context, "tenantId", "tenantId must be a UUID.").ConfigureAwait(false);
            return;
        }

        await ((method, template) switch
        {
            ("GET", "/api/traces") => ListTracesAsync(context, caller),
            ("GET", "/api/traces/{traceId}") => GetTraceAsync(context, caller, segments[1]),
            ("GET", "/api/tenants") => tenants.ListAsync(context, caller),
            ("POST", "/api/tenants") => tenants.CreateAsync(context, caller),
            ("GET", "/api/tenants/{tenantId}") => tenants.GetAsync(context, caller, tenantId),
            ("PATCH", "/api/tenants/{tenantId}") => tenants.PatchAsync(context, caller, tenantId),
            ("DELETE", "/api/tenants/{tenantId}") => tenants.DeleteAsync(context, caller, tenantId),
            ("GET", "/api/tenants/{tenantId}/keys") => tenants.ListKeysAsync(context, caller, tenantId),
            ("POST", "/api/tenants/{tenantId}/keys") => tenants.CreateKeyAsync(context, caller, tenantId),
            ("DELETE", "/api/tenants/{tenantId}/keys/{keyId}") => tenants.RevokeKeyAsync(context, caller, tenantId, segments[3]),
            ("GET", "/api/tenants/{tenantId}/budget") => tenants.GetBudgetAsync(context, caller, tenantId),
            ("PUT", "/api/tenants/{tenantId}/budget") => tenants.PutBudgetAsync(context, caller, tenantId),
            ("GET", "/api/spend") => reports.SpendAsync(context, caller),
            ("GET", "/api/findings") => reports.FindingsAsync(context, caller),
            ("GET", "/api/reports/compliance") => reports.ComplianceAsync(context, caller),
            ("GET", "/api/reports/reconciliation") => reports.ReconciliationAsync(context, caller),
            ("GET", "/api/poison") => poison.ListAsync(context, caller),
            ("POST", "/api/poison/{id}/replay") => poison.ReplayAsync(context, caller, segments[1]),
            _ => tenants.ListAuditAsync(context, caller),
        }).ConfigureAwait(false);
    }

    private static string? Match(string[] segments) => segments switch
    {
        ["traces"] => "/api/traces",
        ["traces", _] => "/api/traces/{traceId}",
        ["tenants"] => "/api/tenants",
        ["tenants", _] => "/api/tenants/{tenantId}",
        ["tenants", _, "keys"] => "/api/tenants/{tenantId}/keys",
        ["tenants", _, "keys", _] => "/api/tenants/{tenantId}/keys/{keyId}",
        ["tenants", _, "budget"] => "/api/tenants/{tenantId}/budget",
        ["spend"] => "/api/spend",
        ["findings"] => "/api/findings",
        ["reports", "compliance"] => "/api/reports/compliance",
        ["reports", "reconciliation"] => "/api/reports/reconciliation",
        ["audit"] => "/api/audit",
        ["poison"] => "/api/poison",
        ["poison", _, "replay"] => "/api/poison/{id}/replay",
        ["openapi.json"] => "/api/openapi.json",
        _ => null,
    };

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

    /// <summary>Status of each dependency; 200 when all are healthy or degraded, 503 when any is unhealthy. Needs no key.</summary>
    public async Task HealthAsync(HttpContext context)
    {
        var report = await health.CheckHealthAsync(context.RequestAborted).ConfigureAwait(false);
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

        if (values.TryGetValue("limit", out var limitText))
        {
            if (!int.TryParse(limitText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var limit) || limit < 1 || limit > TraceQuery.MaxLimit)
            {
                (param, problem) = ("limit", $"limit must be a whole number from 1 to {TraceQuery.MaxLimit}.");
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
        => GatewayErrors.WriteAsync(context, ProviderKind.OpenAI, StatusCodes.Status400BadRequest, "invalid_request_error", "invalid_parameter", message ?? "Invalid request.", param);

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
