using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net.Http.Headers;
using LlmTrace.Domain.Providers;
using LlmTrace.Domain.Resilience;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Routing;

/// <summary>
/// The backends each route forwards to. A route with a pool (<see cref="UpstreamOptions.Pools"/>) tries, for each call,
/// the lowest priority group that has a backend neither cooling (it answered 429) nor broken (its breaker is open),
/// weighted inside the group, and fails over to the next only before any response byte reached the client. A route
/// without a pool forwards to its single URL as it always has.
/// </summary>
public sealed class BackendPools
{
    private readonly Breakers _breakers;
    private readonly TimeProvider _time;
    private readonly Lazy<EntraTokenSource> _tokens;
    private readonly Microsoft.Extensions.Configuration.IConfiguration _configuration;
    private volatile Snapshot _snapshot;

    public BackendPools(
        IOptionsMonitor<UpstreamOptions> options,
        Breakers breakers,
        TimeProvider time,
        Lazy<EntraTokenSource> tokens,
        IMeterFactory meters,
        Microsoft.Extensions.Configuration.IConfiguration configuration)
    {
        _tokens = tokens;
        _configuration = configuration;
        _breakers = breakers;
        _time = time;
        _snapshot = Build(options.CurrentValue);
        options.OnChange(o => _snapshot = Build(o));
        meters.Create(Telemetry.GatewayTelemetry.Name).CreateObservableGauge(
            "llmtrace.gateway.backend.cooling",
            () => Pooled.Select(p => new Measurement<int>(
                p.Backend.CoolingFor(_time.GetUtcNow()) is null ? 0 : 1,
                new KeyValuePair<string, object?>("llmtrace.route", p.Route),
                new KeyValuePair<string, object?>("llmtrace.backend", p.Backend.Name))),
            "{backend}",
            "1 while a pool backend is left alone after a 429, else 0.");
    }

    /// <summary>The backends that may serve one call, in the order to try them; null when the route has no upstream.</summary>
    public BackendPlan? Plan(GatewayRoute route)
    {
        var snapshot = _snapshot;
        if (snapshot.Direct.TryGetValue(route.Name, out var direct))
        {
            return direct; // a single URL: one cached plan, nothing allocated per call
        }

        if (!snapshot.Pools.TryGetValue(route.Name, out var pool))
        {
            return null;
        }

        var now = _time.GetUtcNow();
        var available = new List<Backend>(pool.Backends.Count);
        List<Backend>? broken = null;
        TimeSpan? soonest = null;
        foreach (var backend in pool.Backends)
        {
            if (backend.CoolingFor(now) is { } cooling)
            {
                soonest = soonest is null || cooling < soonest ? cooling : soonest;
                continue;
            }

            if (backend.Breaker?.IsBroken(now) == true)
            {
                // Tried last, where its breaker fails it at once (an open breaker whose break is over is probed in place).
                (broken ??= []).Add(backend);
                continue;
            }

            available.Add(backend);
        }

        var ordered = WeightedByPriority(available);
        if (broken is not null)
        {
            ordered.AddRange(broken);
        }

        return new BackendPlan(pool.Backends[0].Url, ordered, pool.Options, pooled: true, ordered.Count == 0 ? soonest : null);
    }

    /// <summary>Whether every backend of the route signs in with the gateway's identity, so no provider key is needed.</summary>
    public bool SignsInItself(string routeName)
        => _snapshot.Pools.TryGetValue(routeName, out var pool) && pool.SignsInItself;

    /// <summary>Every pooled backend with its route, for <c>/health</c> and metrics.</summary>
    public IEnumerable<(string Route, Backend Backend)> Pooled
        => _snapshot.Pools.SelectMany(p => p.Value.Backends.Select(b => (p.Key, b)));

    public static string NameOf(BackendOptions backend) => backend.Name ?? backend.Url?.Host ?? "backend";

    /// <summary>
    /// How long a 429 asks the caller to wait: <c>retry-after-ms</c>, else <c>retry-after</c> (seconds or a date), else
    /// the longest of OpenAI's <c>x-ratelimit-reset-requests</c> / <c>-tokens</c> ("1s", "6m0s", "20ms"); null when none says.
    /// </summary>
    public static TimeSpan? RetryAfter(HttpResponseHeaders headers, DateTimeOffset now)
    {
        if (headers.TryGetValues("retry-after-ms", out var ms)
            && double.TryParse(ms.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var milliseconds) && milliseconds >= 0)
        {
            return TimeSpan.FromMilliseconds(milliseconds);
        }

        if (headers.RetryAfter is { } retryAfter)
        {
            if (retryAfter.Delta is { } delta)
            {
                return delta;
            }

            if (retryAfter.Date is { } date)
            {
                return date > now ? date - now : TimeSpan.Zero;
            }
        }

        TimeSpan? longest = null;
        foreach (var name in (ReadOnlySpan<string>)["x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"])
        {
            if (headers.TryGetValues(name, out var values) && ParseDuration(values.FirstOrDefault()) is { } reset && (longest is null || reset > longest))
            {
                longest = reset;
            }
        }

        return longest;
    }

    /// <summary>Go-style durations as OpenAI sends them: "20ms", "1s", "6m0s", "1h2m3.5s".</summary>
    internal static TimeSpan? ParseDuration(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var total = TimeSpan.Zero;
        var span = text.AsSpan().Trim();
        while (span.Length > 0)
        {
            var digits = 0;
            while (digits < span.Length && (char.IsAsciiDigit(span[digits]) || span[digits] == '.'))
            {
                digits++;
            }

            if (digits == 0 || !double.TryParse(span[..digits], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                return null;
            }

            span = span[digits..];
            var unit = span.StartsWith("ms") ? "ms" : span.Length > 0 ? span[..1].ToString() : "s";
            total += unit switch
            {
                "ms" => TimeSpan.FromMilliseconds(value),
                "s" => TimeSpan.FromSeconds(value),
                "m" => TimeSpan.FromMinutes(value),
                "h" => TimeSpan.FromHours(value),
                _ => TimeSpan.MinValue,
            };
            if (total < TimeSpan.Zero)
            {
                return null;
            }

            span = span[Math.Min(unit.Length, span.Length)..];
        }

        return total;
    }

    /// <summary>Priority groups in order; inside a group, a weighted random order (each pick in proportion to weight).</summary>
    private static List<Backend> WeightedByPriority(List<Backend> available)
    {
        if (available.Count <= 1)
        {
            return available;
        }

        var ordered = new List<Backend>(available.Count);
        var start = 0;
        while (start < available.Count)
        {
            var end = start;
            var total = 0;
            while (end < available.Count && available[end].Priority == available[start].Priority)
            {
                total += available[end].Weight;
                end++;
            }

            var group = available.GetRange(start, end - start);
            while (group.Count > 0)
            {
                var pick = Random.Shared.Next(total);
                var index = 0;
                while (pick >= group[index].Weight)
                {
                    pick -= group[index].Weight;
                    index++;
                }

                total -= group[index].Weight;
                ordered.Add(group[index]);
                group.RemoveAt(index);
            }

            start = end;
        }

        return ordered;
    }

    private Snapshot Build(UpstreamOptions options)
    {
        var direct = new Dictionary<string, BackendPlan>(StringComparer.Ordinal);
        var pools = new Dictionary<string, Pool>(StringComparer.Ordinal);
        foreach (var route in GatewayRoute.All)
        {
            // The validator refuses a pool without backends or a backend without a URL, so a pool is never empty here.
            if (options.Pools.TryGetValue(route.PoolKey, out var pool) && pool.Backends.Count > 0)
            {
                // A reload builds every backend afresh with its new settings; a backend's breaker is kept by name.
                var backends = pool.Backends
                    .Select(b => new Backend(
                        NameOf(b), b.Url!, b.Priority, b.Weight, b.TimeoutSeconds is { } t ? TimeSpan.FromSeconds(t) : null,
                        new Dictionary<string, string>(b.Deployments, StringComparer.OrdinalIgnoreCase),
                        _breakers.For($"backend {route.Name}/{NameOf(b)}"))
                    {
                        Tokens = b.Credential == BackendCredential.ManagedIdentity ? (_tokens, b.TokenScope) : null,
                        Key = b.Credential == BackendCredential.Key && !string.IsNullOrEmpty(b.KeySetting) ? (_configuration, b.KeySetting) : null,
                    })
                    .OrderBy(b => b.Priority)
                    .ToList();
                pools[route.Name] = new Pool(backends, pool, backends.TrueForAll(b => b.Tokens is not null));
            }
            else if (route.GetUpstream(options) is { } url)
            {
                var single = new Backend(url.Host, url, 0, 1, null, new Dictionary<string, string>(), breaker: null);
                direct[route.Name] = new BackendPlan(url, [single], null, pooled: false, null);
            }
        }

        return new Snapshot(direct, pools);
    }

    private sealed record Pool(List<Backend> Backends, PoolOptions Options, bool SignsInItself);

    private sealed record Snapshot(Dictionary<string, BackendPlan> Direct, Dictionary<string, Pool> Pools);
}

/// <summary>The backends that may serve one call, in order.</summary>
public sealed class BackendPlan(Uri primary, IReadOnlyList<Backend> candidates, PoolOptions? options, bool pooled, TimeSpan? allCoolingFor)
{
    /// <summary>The route's first configured backend, which names the provider and the server in telemetry.</summary>
    public Uri Primary { get; } = primary;

    public IReadOnlyList<Backend> Candidates { get; } = candidates;

    /// <summary>False for a route's single URL, whose answers (429 and 5xx included) pass to the client untouched.</summary>
    public bool Pooled { get; } = pooled;

    public int MaxAttempts { get; } = Math.Min(candidates.Count, options?.MaxAttempts ?? 1);

    public TimeSpan DefaultCooling { get; } = TimeSpan.FromSeconds(options?.DefaultCoolingSeconds ?? 10);

    public TimeSpan MaxCooling { get; } = TimeSpan.FromSeconds(options?.MaxCoolingSeconds ?? 300);

    /// <summary>When every backend of the pool is cooling: how soon the first one may be called again.</summary>
    public TimeSpan? AllCoolingFor { get; } = allCoolingFor;
}

/// <summary>One upstream a route can forward to, with its cooling (after a 429) and its circuit breaker.</summary>
public sealed class Backend
{
    private long _coolingUntilTicks;

    internal Backend(string name, Uri url, int priority, int weight, TimeSpan? timeout, IReadOnlyDictionary<string, string> deployments, Breaker? breaker)
    {
        Name = name;
        Url = url;
        Priority = priority;
        Weight = weight;
        Timeout = timeout;
        Deployments = deployments;
        Breaker = breaker;
    }

    public string Name { get; }

    public Uri Url { get; }

    public int Priority { get; }

    public int Weight { get; }

    public TimeSpan? Timeout { get; }

    public IReadOnlyDictionary<string, string> Deployments { get; }

    /// <summary>Null for a route's single URL, which has no breaker.</summary>
    public Breaker? Breaker { get; }

    /// <summary>How much longer the backend is left alone after a 429; null when it may be called.</summary>
    public TimeSpan? CoolingFor(DateTimeOffset now)
    {
        var until = Interlocked.Read(ref _coolingUntilTicks);
        return until > now.UtcTicks ? TimeSpan.FromTicks(until - now.UtcTicks) : null;
    }

    /// <summary>Leaves the backend alone until <paramref name="until"/> (a later cooling never shortens an earlier one).</summary>
    public void Cool(DateTimeOffset until)
    {
        var ticks = until.UtcTicks;
        var current = Interlocked.Read(ref _coolingUntilTicks);
        while (ticks > current)
        {
            var seen = Interlocked.CompareExchange(ref _coolingUntilTicks, ticks, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    /// <summary>The token source and scope when the backend signs in with the gateway's identity; null for keys.</summary>
    internal (Lazy<EntraTokenSource> Source, string Scope)? Tokens { get; init; }

    /// <summary>Where this backend's own provider key is configured, when it has one.</summary>
    internal (Microsoft.Extensions.Configuration.IConfiguration Configuration, string Setting)? Key { get; init; }

    /// <summary>
    /// Signs the request in with the gateway's identity when the backend asks for it: every client or provider
    /// credential header is replaced by an Entra ID bearer token.
    /// </summary>
    /// <param name="provider">The route's provider, whose header carries a key.</param>
    /// <param name="substituted">The gateway put its own key on the call (gateway keys); a client's own key is left alone.</param>
    public async ValueTask AuthorizeAsync(
        HttpRequestMessage request, IEnumerable<string> credentialHeaders, ProviderKind provider, bool substituted, CancellationToken cancellationToken)
    {
        if (Key is { } key && substituted)
        {
            var value = key.Configuration[$"{Limits.GatewayAuthenticator.ProviderKeysSection}:{key.Setting}"];
            if (string.IsNullOrEmpty(value) || KeyVaultReferences.IsUnresolved(value))
            {
                throw new BackendSignInException(Name, new InvalidOperationException($"No key is configured at LlmTrace__ProviderKeys__{key.Setting}."));
            }

            foreach (var name in credentialHeaders)
            {
                request.Headers.Remove(name);
            }

            var (header, headerValue) = provider.Credential(value);
            request.Headers.TryAddWithoutValidation(header, headerValue);
            return;
        }

        if (Tokens is not { } tokens)
        {
            return;
        }

        string token;
        try
        {
            token = await tokens.Source.Value.GetAsync(tokens.Scope, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new BackendSignInException(Name, ex);
        }

        foreach (var name in credentialHeaders)
        {
            request.Headers.Remove(name);
        }

        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
    }

    /// <summary>The path with an Azure deployment replaced by this backend's own (<c>deployments/{name}/…</c>).</summary>
    public string? MapPath(string? path)
    {
        const string Prefix = "/deployments/";
        if (Deployments.Count == 0 || path is null || !path.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            return path;
        }

        var end = path.IndexOf('/', Prefix.Length);
        var deployment = Uri.UnescapeDataString(end < 0 ? path[Prefix.Length..] : path[Prefix.Length..end]);
        return Deployments.TryGetValue(deployment, out var mapped)
            ? Prefix + Uri.EscapeDataString(mapped) + (end < 0 ? string.Empty : path[end..])
            : path;
    }
}

/// <summary>A backend answered with a server error: counted against its breaker, the response kept for the client if no other backend is left.</summary>
internal sealed class BackendFailedException(HttpResponseMessage response) : Exception($"The backend answered {(int)response.StatusCode}.")
{
    public HttpResponseMessage Response { get; } = response;
}

/// <summary>The gateway could not get a token for a backend that signs in with its identity.</summary>
internal sealed class BackendSignInException(string backend, Exception inner) : Exception(
    $"LlmTrace could not get an Entra ID token for backend {backend}.", inner);
