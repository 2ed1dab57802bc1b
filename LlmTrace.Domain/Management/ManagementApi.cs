using System.Globalization;
using System.Text.Json;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Providers;
using LlmTrace.Domain.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace LlmTrace.Domain.Management;

/// <summary>The read side both hosts serve: <c>GET /api/traces</c>, <c>GET /api/traces/{id}</c> and <c>GET /health</c>.</summary>
public sealed class ManagementApi(ITraceStore store, ManagementAuthorizer authorizer, HealthCheckService health)
{
    public async Task ListTracesAsync(HttpContext context)
    {
        if (!await authorizer.AuthorizeAsync(context).ConfigureAwait(false))
        {
            return;
        }

        if (!TryParseQuery(context.Request.Query, out var query, out var param, out var problem))
        {
            await InvalidAsync(context, param, problem).ConfigureAwait(false);
            return;
        }

        var page = await store.QueryAsync(query, context.RequestAborted).ConfigureAwait(false);
        await WriteJsonAsync(context, StatusCodes.Status200OK, page, CaptureJsonContext.Default.TracePage).ConfigureAwait(false);
    }

    public async Task GetTraceAsync(HttpContext context, string traceId)
    {
        if (!await authorizer.AuthorizeAsync(context).ConfigureAwait(false))
        {
            return;
        }

        if (!Guid.TryParse(traceId, out var id))
        {
            await InvalidAsync(context, "traceId", "traceId must be a UUID.").ConfigureAwait(false);
            return;
        }

        var trace = await store.GetAsync(id, context.RequestAborted).ConfigureAwait(false);
        if (trace is null)
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
