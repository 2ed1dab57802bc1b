using LlmTrace.Domain;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Providers;
using LlmTrace.Domain.Proxy;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace LlmTrace.Tests.Proxy;

/// <summary>Bad configuration fails at start-up with a message that names the setting (host start alone may not validate under Functions).</summary>
public sealed class OptionsValidationTests
{
    [Theory]
    [InlineData("LlmTrace:Proxy:IdleTimeoutSeconds", "0", "IdleTimeoutSeconds")]
    [InlineData("LlmTrace:Proxy:MaxRequestBodyBytes", "10", "MaxRequestBodyBytes")]
    [InlineData("LlmTrace:Proxy:MaxCaptureBytes", "100", "MaxCaptureBytes")]
    [InlineData("LlmTrace:Capture:QueueCapacity", "0", "QueueCapacity")]
    [InlineData("LlmTrace:Upstreams:Default", "ftp://example.com", "LlmTrace:Upstreams:Default")]
    [InlineData("LlmTrace:Upstreams:Anthropic", "https://api.anthropic.com/?x=1", "LlmTrace:Upstreams:Anthropic")]
    public void Startup_InvalidSetting_ThrowsOptionsValidationExceptionNamingIt(string key, string value, string expectedInMessage)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [key] = value });
        builder.AddGatewayCore();
        using var provider = builder.Services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(expectedInMessage, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Startup_Defaults_AreValid()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.AddGatewayCore();
        using var provider = builder.Services.BuildServiceProvider();

        provider.GetRequiredService<IStartupValidator>().Validate();

        Assert.Equal(new Uri("https://api.openai.com"), provider.GetRequiredService<IOptions<UpstreamOptions>>().Value.Default);
        Assert.Null(provider.GetRequiredService<IOptions<UpstreamOptions>>().Value.AzureOpenAI);
        Assert.Equal(25L * 1024 * 1024, provider.GetRequiredService<IOptions<ProxyOptions>>().Value.MaxRequestBodyBytes);
        Assert.Equal(10_000, provider.GetRequiredService<IOptions<CaptureOptions>>().Value.QueueCapacity);
    }
}
