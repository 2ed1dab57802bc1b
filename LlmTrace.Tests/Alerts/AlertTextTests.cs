using LlmTrace.Domain.Alerts;

namespace LlmTrace.Tests.Alerts;

/// <summary>Client-chosen values in alert summaries, which the relay posts to Slack and Teams as markup.</summary>
public sealed class AlertTextTests
{
    [Theory]
    [InlineData("gpt-4o-mini", "gpt-4o-mini")]
    [InlineData("gpt-3.5-turbo", "gpt-3.5-turbo")]
    [InlineData("ft:gpt-4o:acme:support:9x2", "ft:gpt-4o:acme:support:9x2")]
    [InlineData("/v1/chat/completions", "/v1/chat/completions")]
    [InlineData("claude_sonnet_4", "claude_sonnet_4")]
    [InlineData("anthropic.claude-3-5-sonnet@20240620", "anthropic[.]claude-3-5-sonnet[at]20240620")]
    [InlineData("<!channel> hi", "??channel? hi")]
    [InlineData("[pay now](https://evil.example/x)", "?pay now??https?/?evil[.]example/x?")]
    [InlineData("/v1/pay-at.evil-billing.com/now", "/v1/pay-at[.]evil-billing[.]com/now")]
    [InlineData("www.evil.com pay@evil.com", "www[.]evil[.]com pay[at]evil[.]com")]
    [InlineData("*bold* _it_ ~s~ `code` :smile:", "?bold? ?it? ?s? ?code? ?smile?")]
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
