namespace LlmTrace.Domain.Management;

/// <summary>
/// One management route: method, path template (<c>{name}</c> segments match any value) and handler. A null handler is
/// served before authentication (the OpenAPI document).
/// </summary>
internal sealed class ManagementRoute(
    string method, string template, Func<ManagementApi, Microsoft.AspNetCore.Http.HttpContext, Caller, RouteValues, Task>? handler)
{
    private readonly string[] _segments = template["/api/".Length..].Split('/');

    public string Method { get; } = method;

    public string Template { get; } = template;

    public Func<ManagementApi, Microsoft.AspNetCore.Http.HttpContext, Caller, RouteValues, Task>? Handler { get; } = handler;

    /// <summary>The values of the template's parameters when <paramref name="path"/> matches it; otherwise null.</summary>
    public RouteValues? Match(string[] path)
    {
        if (path.Length != _segments.Length)
        {
            return null;
        }

        var values = new RouteValues();
        for (var i = 0; i < path.Length; i++)
        {
            var segment = _segments[i];
            if (segment.StartsWith('{'))
            {
                values[segment[1..^1]] = path[i];
            }
            else if (!segment.Equals(path[i], StringComparison.Ordinal))
            {
                return null;
            }
        }

        return values;
    }
}

/// <summary>The parameters a route matched, by name; <see cref="TenantId"/> once <c>{tenantId}</c> has been validated.</summary>
internal sealed class RouteValues : Dictionary<string, string>
{
    public RouteValues()
        : base(StringComparer.Ordinal)
    {
    }

    public Guid TenantId { get; set; }
}
