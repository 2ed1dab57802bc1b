using System.Collections.Frozen;

namespace LlmTrace.Domain.Proxy;

/// <summary>Headers that belong to one connection (RFC 9110 §7.6.1) and are never forwarded, plus the gateway's own.</summary>
internal static class HopByHop
{
    private static readonly FrozenSet<string> Names = new[]
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization",
        "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Alt-Svc",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    public static bool IsHopByHop(string name) => Names.Contains(name);

    /// <summary>
    /// Request headers not sent upstream: hop-by-hop ones, Host (the upstream's own is used), Content-Length (recomputed
    /// from the forwarded body) and the gateway's <c>X-LLMTrace-*</c> headers, which are addressed to the gateway.
    /// </summary>
    public static bool IsRequestHeaderDropped(string name)
        => Names.Contains(name)
            || name.Equals("Host", StringComparison.OrdinalIgnoreCase)
            || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)
            || name.StartsWith("X-LLMTrace-", StringComparison.OrdinalIgnoreCase)
            || name.StartsWith(':');
}
