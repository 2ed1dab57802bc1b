using System.Globalization;
using LlmTrace.Domain.Capture;
using Microsoft.AspNetCore.Http;

namespace LlmTrace.Domain.Management;

/// <summary>The one paging rule of every management list: <c>limit</c> from 1 to 1,000, 100 when absent.</summary>
internal static class ManagementPaging
{
    public const int MaxLimit = TraceQuery.MaxLimit;

    public const int DefaultLimit = TraceQuery.DefaultLimit;

    public const string Problem = "limit must be a whole number from 1 to 1000.";

    /// <summary>Reads <c>limit</c>; false when present and not a whole number in range.</summary>
    public static bool TryLimit(IQueryCollection query, out int limit)
    {
        limit = DefaultLimit;
        var text = query["limit"].ToString();
        return text.Length == 0 || (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out limit) && limit is >= 1 and <= MaxLimit);
    }

    /// <summary>Reads <c>limit</c> and a <c>continuationToken</c> this API issued (its decoded key in <paramref name="after"/>).</summary>
    public static bool TryPage(IQueryCollection query, out int limit, out string? after)
    {
        after = null;
        return TryLimit(query, out limit) && Tenancy.ContinuationToken.TryDecode(query["continuationToken"].ToString(), out after);
    }
}
