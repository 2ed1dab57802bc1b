using System.Globalization;
using System.Text.Json;
using LlmTrace.Domain.Records;

namespace LlmTrace.Domain.Limits;

/// <summary>
/// Rate-limit counters shared by every process, one record per counter holding the current minute and its use, updated
/// with optimistic concurrency (read, then replace only if unchanged; retry on conflict). Used by the Functions host over
/// Table Storage.
/// </summary>
public sealed class RecordRateLimitStore(IRecordStore records) : IRateLimitStore
{
    private const string Partition = "counter";
    private const int MaxAttempts = 16;

    public async ValueTask<RateGrant> ReserveAsync(string counter, string window, long limit, long wanted, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var record = await records.GetAsync(RecordTables.RateLimits, Partition, counter, cancellationToken).ConfigureAwait(false);
            var used = 0L;
            if (record is not null && Read(record.Json) is { } stored)
            {
                if (string.CompareOrdinal(stored.Window, window) > 0)
                {
                    // Another instance is already in the next minute (this clock is behind): grant nothing rather
                    // than reset its fresher counter.
                    return new RateGrant(0, limit);
                }

                used = stored.Window == window ? stored.Used : 0;
            }

            var granted = Math.Clamp(limit - used, 0, wanted);
            if (granted == 0)
            {
                return new RateGrant(0, used);
            }

            var json = Write(window, used + granted);
            try
            {
                if (record is null)
                {
                    await records.InsertAsync(RecordTables.RateLimits, Partition, counter, json, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await records.ReplaceAsync(RecordTables.RateLimits, Partition, counter, json, record.ETag, cancellationToken).ConfigureAwait(false);
                }

                return new RateGrant(granted, used + granted);
            }
            catch (RecordConflictException) when (attempt < MaxAttempts)
            {
                // Another process moved the counter first: read it again.
                await Task.Delay(Random.Shared.Next(1, 5 * attempt), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static (string Window, long Used)? Read(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        return root.TryGetProperty("window", out var w) && root.TryGetProperty("used", out var u) && w.GetString() is { } window
            ? (window, u.GetInt64())
            : null;
    }

    private static string Write(string window, long used)
        => string.Create(CultureInfo.InvariantCulture, $$"""{"window":"{{window}}","used":{{used}}}""");
}
