namespace LlmTrace.Domain.Capture;

/// <summary>The filter semantics of <see cref="TraceQuery"/>, for stores that filter in memory.</summary>
public static class TraceFilter
{
    public static bool Matches(TraceQuery query, Trace trace)
        => (query.TenantId is null || trace.TenantId == query.TenantId)
            && (query.AgentId is null || string.Equals(trace.AgentId, query.AgentId, StringComparison.Ordinal))
            && (query.Model is null || string.Equals(trace.Model, query.Model, StringComparison.OrdinalIgnoreCase))
            && (query.Provider is null || string.Equals(trace.Provider, query.Provider, StringComparison.OrdinalIgnoreCase))
            && (query.Succeeded is null || IsSuccess(trace.StatusCode) == query.Succeeded)
            && (query.HasFindings is null || trace.Findings.Count > 0 == query.HasFindings)
            && (query.Since is null || trace.StartedAt >= query.Since)
            && (query.Until is null || trace.StartedAt < query.Until);

    /// <summary>An answered call: what the <c>status=ok</c> filter keeps (everything else is <c>status=error</c>).</summary>
    public static bool IsSuccess(int statusCode) => statusCode is >= 200 and < 400;
}
