using LlmTrace.SelfHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.FileProviders;

namespace LlmTrace.Tests.Processing;

/// <summary>
/// SelfHost keeps reloading appsettings.json when it changes, without a recursive OS watch of its content root (the
/// working directory, where the data folder usually lives, so every database and journal write would wake it).
/// </summary>
public sealed class SelfHostConfigurationWatchTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "llmtrace-tests", "content-" + Guid.NewGuid().ToString("N"));

    public SelfHostConfigurationWatchTests() => Directory.CreateDirectory(_root);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temporary folder.
        }
    }

    [Fact]
    public async Task Configuration_files_are_polled_and_a_change_is_still_picked_up()
    {
        var settings = Path.Combine(_root, "appsettings.json");
        await File.WriteAllTextAsync(settings, """{ "Probe": { "Value": "before" } }""");
        await using var app = SelfHostApp.Build(["--contentRoot", _root, "--LlmTrace:Sqlite:Path", Path.Combine(_root, "data", "traces.db")]);

        var watched = ((IConfigurationBuilder)app.Configuration).Sources.OfType<FileConfigurationSource>().Where(s => s.ReloadOnChange).ToList();
        Assert.NotEmpty(watched);
        // UseActivePolling follows the same variable; UsePollingFileWatcher reads false once the watcher exists.
        Assert.All(watched, source => Assert.True(source.FileProvider is PhysicalFileProvider { UseActivePolling: true }, source.Path));
        Assert.Equal("before", app.Configuration["Probe:Value"]);

        // Writes under the content root that are not configuration (the data folder) change nothing.
        Directory.CreateDirectory(Path.Combine(_root, "data"));
        await File.WriteAllTextAsync(Path.Combine(_root, "data", "noise.bin"), "x");

        await File.WriteAllTextAsync(settings, """{ "Probe": { "Value": "after" } }""");
        File.SetLastWriteTimeUtc(settings, DateTime.UtcNow.AddSeconds(5)); // polling compares write times
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (app.Configuration["Probe:Value"] != "after" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.Equal("after", app.Configuration["Probe:Value"]);
    }
}
