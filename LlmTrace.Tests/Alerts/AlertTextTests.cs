using LlmTrace.Domain.Alerts;

namespace LlmTrace.Tests.Alerts;

/// <summary>Client-chosen values in alert summaries, which the relay posts to Slack and Teams as markup.</summary>
public sealed class AlertTextTests
{
    [Theory]
    [InlineData("gpt-4o-mini", "gpt-4o-mini")]
    [InlineData("ft:gpt-4o:acme:support:9x2", "ft:gpt-4o:acme:support:9x2")]
    [InlineData("/v1/chat/completions", "/v1/chat/completions")]
    [InlineData("anthropic.claude-3-5-sonnet@20240620", "anthropic.claude-3-5-sonnet@20240620")]
    [InlineData("<!channel> hi", "??channel? hi")]
    [InlineData("[pay now](https://evil.example/x)", "?pay now??https:/?evil.example/x?")]
    [InlineData("*bold* _it_ ~s~ `code`", "?bold? _it_ ?s? ?code?")]
    [InlineData("a__b", "a_?b")]
    [InlineData(null, "-")]
    public void Value_KeepsNamesReadable_AndNeutralisesMarkup(string? value, string expected)
        => Assert.Equal(expected, AlertText.Value(value));

    [Fact]
    public void Value_LongValue_IsCut()
    {
        var value = AlertText.Value(new string('m', 500));

        Assert.Equal(AlertText.MaxLength + 1, value.Length);
        Assert.EndsWith("…", value, StringComparison.Ordinal);
    }
}
