using Microsoft.Playwright;

namespace LlmTrace.Tests.Infrastructure;

/// <summary>
/// Debian's Chromium driven by Playwright for .NET (Playwright's own browser download cannot work here). The test script
/// installs the package; <c>LLMTRACE_CHROMIUM</c> points elsewhere when needed.
/// </summary>
public static class Chromium
{
    public static string ExecutablePath => Environment.GetEnvironmentVariable("LLMTRACE_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public static async Task<(IPlaywright Playwright, IBrowser Browser)> LaunchAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException($"No Chromium at {ExecutablePath}. Run the tests with ./scripts/test.sh, which installs Debian's chromium package.");
        }

        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            // Without these, Chromium keeps trying to reach Google's services, which this closed network refuses.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        return (playwright, browser);
    }
}
