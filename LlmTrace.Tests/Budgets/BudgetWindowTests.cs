using LlmTrace.Domain.Budgets;

namespace LlmTrace.Tests.Budgets;

public sealed class BudgetWindowTests
{
    public static TheoryData<string, WindowKind, string, string, string> Cases => new()
    {
        // at, kind, start, end, key
        { "2026-11-26T09:59:59.999Z", WindowKind.Hour, "2026-11-26T09:00:00Z", "2026-11-26T10:00:00Z", "hour-2026-11-26T09" },
        { "2026-11-26T10:00:00Z", WindowKind.Hour, "2026-11-26T10:00:00Z", "2026-11-26T11:00:00Z", "hour-2026-11-26T10" },
        { "2026-11-26T23:59:59Z", WindowKind.Day, "2026-11-26T00:00:00Z", "2026-11-27T00:00:00Z", "day-2026-11-26" },
        { "2026-11-26T12:00:00+05:00", WindowKind.Day, "2026-11-26T00:00:00Z", "2026-11-27T00:00:00Z", "day-2026-11-26" },
        { "2026-11-27T01:00:00+05:00", WindowKind.Day, "2026-11-26T00:00:00Z", "2026-11-27T00:00:00Z", "day-2026-11-26" },
        // ISO weeks start on Monday: Thursday 2026-11-26 is in the week of Monday 2026-11-23.
        { "2026-11-26T09:00:00Z", WindowKind.Week, "2026-11-23T00:00:00Z", "2026-11-30T00:00:00Z", "week-2026-11-23" },
        { "2026-11-29T23:59:59Z", WindowKind.Week, "2026-11-23T00:00:00Z", "2026-11-30T00:00:00Z", "week-2026-11-23" },
        { "2026-11-30T00:00:00Z", WindowKind.Week, "2026-11-30T00:00:00Z", "2026-12-07T00:00:00Z", "week-2026-11-30" },
        // A week that spans the new year.
        { "2027-01-01T12:00:00Z", WindowKind.Week, "2026-12-28T00:00:00Z", "2027-01-04T00:00:00Z", "week-2026-12-28" },
        // A 31-day month, and the year boundary.
        { "2026-12-31T23:59:59Z", WindowKind.Month, "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z", "month-2026-12" },
        { "2027-01-01T00:00:00Z", WindowKind.Month, "2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z", "month-2027-01" },
        { "2027-01-01T00:00:00Z", WindowKind.Hour, "2027-01-01T00:00:00Z", "2027-01-01T01:00:00Z", "hour-2027-01-01T00" },
        // Leap day: February 2028 has 29 days.
        { "2028-02-29T12:00:00Z", WindowKind.Day, "2028-02-29T00:00:00Z", "2028-03-01T00:00:00Z", "day-2028-02-29" },
        { "2028-02-29T12:00:00Z", WindowKind.Month, "2028-02-01T00:00:00Z", "2028-03-01T00:00:00Z", "month-2028-02" },
        { "2028-02-29T12:00:00Z", WindowKind.Week, "2028-02-28T00:00:00Z", "2028-03-06T00:00:00Z", "week-2028-02-28" },
        { "2027-02-28T12:00:00Z", WindowKind.Month, "2027-02-01T00:00:00Z", "2027-03-01T00:00:00Z", "month-2027-02" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Containing_Instant_IsTheCalendarAlignedUtcWindow(string at, WindowKind kind, string start, string end, string key)
    {
        var window = BudgetWindow.Containing(kind, DateTimeOffset.Parse(at, System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(DateTimeOffset.Parse(start, System.Globalization.CultureInfo.InvariantCulture), window.Start);
        Assert.Equal(DateTimeOffset.Parse(end, System.Globalization.CultureInfo.InvariantCulture), window.End);
        Assert.Equal(key, window.Key);
        Assert.True(window.Contains(DateTimeOffset.Parse(at, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void SecondsUntilEnd_JustBeforeMidnight_IsOne()
    {
        var now = new DateTimeOffset(2026, 11, 26, 23, 59, 59, 500, TimeSpan.Zero);

        Assert.Equal(1, BudgetWindow.Containing(WindowKind.Day, now).SecondsUntilEnd(now));
        Assert.Equal(3600, BudgetWindow.Containing(WindowKind.Hour, now.AddSeconds(0.5)).SecondsUntilEnd(now.AddSeconds(0.5)));
    }
}
