using System.Globalization;

namespace LlmTrace.Domain.Budgets;

public enum WindowKind
{
    Hour,
    Day,
    Week,
    Month,
}

/// <summary>
/// A calendar-aligned UTC window: hours on the hour, days at midnight, ISO weeks from Monday 00:00, months from the 1st.
/// The key names the window by its start, so it sorts and never collides across years.
/// </summary>
public readonly record struct BudgetWindow(WindowKind Kind, DateTimeOffset Start, DateTimeOffset End)
{
    public static IReadOnlyList<WindowKind> Kinds { get; } = [WindowKind.Hour, WindowKind.Day, WindowKind.Week, WindowKind.Month];

    /// <summary>e.g. <c>hour-2026-11-26T09</c>, <c>day-2026-11-26</c>, <c>week-2026-11-23</c>, <c>month-2026-11</c>.</summary>
    public string Key => Kind switch
    {
        WindowKind.Hour => "hour-" + Start.ToString("yyyy-MM-dd'T'HH", CultureInfo.InvariantCulture),
        WindowKind.Day => "day-" + Start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        WindowKind.Week => "week-" + Start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        _ => "month-" + Start.ToString("yyyy-MM", CultureInfo.InvariantCulture),
    };

    public static BudgetWindow Containing(WindowKind kind, DateTimeOffset at)
    {
        var utc = at.ToUniversalTime();
        var day = new DateTimeOffset(utc.Year, utc.Month, utc.Day, 0, 0, 0, TimeSpan.Zero);
        return kind switch
        {
            WindowKind.Hour => Create(kind, day.AddHours(utc.Hour), day.AddHours(utc.Hour + 1)),
            WindowKind.Day => Create(kind, day, day.AddDays(1)),
            WindowKind.Week => Create(kind, day.AddDays(-(((int)utc.DayOfWeek + 6) % 7)), day.AddDays(7 - (((int)utc.DayOfWeek + 6) % 7))),
            _ => Create(
                kind,
                new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero),
                new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(1)),
        };
    }

    /// <summary>The four windows (hour, day, week, month) that contain <paramref name="at"/>.</summary>
    public static BudgetWindow[] AllContaining(DateTimeOffset at) => [.. Kinds.Select(k => Containing(k, at))];

    public bool Contains(DateTimeOffset at) => at >= Start && at < End;

    /// <summary>Seconds until the window ends (at least 1), for <c>retry-after</c>.</summary>
    public int SecondsUntilEnd(DateTimeOffset now) => Math.Max(1, (int)Math.Ceiling((End - now).TotalSeconds));

    private static BudgetWindow Create(WindowKind kind, DateTimeOffset start, DateTimeOffset end) => new(kind, start, end);
}
