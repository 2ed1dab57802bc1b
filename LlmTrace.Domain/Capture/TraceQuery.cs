using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace LlmTrace.Domain.Capture;

/// <summary>Filters for listing traces, newest first.</summary>
public sealed record TraceQuery
{
    public const int MaxLimit = 1000;
    public const int DefaultLimit = 100;

    public Guid? TenantId { get; init; }

    public string? AgentId { get; init; }

    public string? Model { get; init; }

    public string? Provider { get; init; }

    /// <summary>True: only answered calls (status 200–399); false: only failed or refused ones (4xx, 5xx, no answer).</summary>
    public bool? Succeeded { get; init; }

    /// <summary>True: only calls with findings; false: only calls without.</summary>
    public bool? HasFindings { get; init; }

    public DateTimeOffset? Since { get; init; }

    public DateTimeOffset? Until { get; init; }

    public int Limit { get; init; } = DefaultLimit;

    /// <summary>Start after this position (exclusive); decoded from the continuation token.</summary>
    public TraceCursor? After { get; init; }
}

/// <summary>A position in the newest-first order: (startedAt, traceId), both descending.</summary>
public readonly record struct TraceCursor(DateTimeOffset StartedAt, Guid TraceId)
{
    public string Encode()
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"{StartedAt.ToUnixTimeMilliseconds()}:{TraceId:N}");
        return Base64Url.EncodeToString(Encoding.ASCII.GetBytes(text));
    }

    public static bool TryDecode(string? token, out TraceCursor cursor)
    {
        cursor = default;
        if (string.IsNullOrEmpty(token) || token.Length > 128)
        {
            return false;
        }

        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(token);
        }
        catch (FormatException)
        {
            return false;
        }

        var text = Encoding.ASCII.GetString(bytes);
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0
            || !long.TryParse(text.AsSpan(0, colon), NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms)
            || !Guid.TryParseExact(text.AsSpan(colon + 1), "N", out var id)
            || ms < DateTimeOffset.MinValue.ToUnixTimeMilliseconds() || ms > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
        {
            return false;
        }

        cursor = new TraceCursor(DateTimeOffset.FromUnixTimeMilliseconds(ms), id);
        return true;
    }
}

/// <summary>One page of traces and the token for the next page (null when there is none).</summary>
public sealed record TracePage(IReadOnlyList<Trace> Items, string? ContinuationToken);
