using System.Diagnostics;
using System.Reflection;
using System.Text.Json;

namespace LlmTrace.Tests.Infra;

/// <summary>
/// Every file under infra/ builds and lints with the Bicep CLI restored from NuGet, with no warning and no error: every
/// linter rule is an error in infra/bicepconfig.json, and compiler warnings (BCP036, BCP037, BCP081, …), which leave the
/// exit code at 0, are caught from the output.
/// </summary>
public sealed class BicepTemplateTests
{
    private static readonly string Root = Metadata("RepositoryRoot");
    private static readonly string Bicep = Metadata("BicepCli");

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var file in InfraFiles())
        {
            data.Add(file);
        }

        return data;
    }

    private static IEnumerable<string> InfraFiles()
        => Directory.EnumerateFiles(Path.Combine(Root, "infra"), "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".bicep", StringComparison.Ordinal) || f.EndsWith(".bicepparam", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(Root, f))
            .Order(StringComparer.Ordinal);

    [Theory]
    [MemberData(nameof(Files))]
    public async Task File_BuildsAndLints_WithoutAnyDiagnostic(string file)
    {
        var build = file.EndsWith(".bicepparam", StringComparison.Ordinal) ? "build-params" : "build";

        var (buildCode, _, buildErrors) = await RunAsync(build, "--stdout", file);
        var (lintCode, lintOutput, lintErrors) = await RunAsync("lint", file);

        Assert.True(buildCode == 0 && !HasDiagnostics(buildErrors), $"bicep {build} {file} exited {buildCode}:\n{buildErrors}");
        Assert.True(lintCode == 0 && !HasDiagnostics(lintErrors + lintOutput), $"bicep lint {file} exited {lintCode}:\n{lintErrors}{lintOutput}");
    }

    [Fact]
    public void Tree_HasTheTemplateAndBothEnvironments()
        => Assert.Subset(InfraFiles().ToHashSet(), new HashSet<string>
        {
            Path.Combine("infra", "main.bicep"),
            Path.Combine("infra", "dev.bicepparam"),
            Path.Combine("infra", "prod.bicepparam"),
        });

    [Fact]
    public async Task Prod_ResolvesToGatewayKeysAndTheDefaultBuildsTransport_AndNoSecretIsALiteral()
    {
        var (code, output, errors) = await RunAsync("build-params", "--stdout", Path.Combine("infra", "prod.bicepparam"));

        Assert.True(code == 0, errors);
        using var document = JsonDocument.Parse(output);
        using var parameters = JsonDocument.Parse(document.RootElement.GetProperty("parametersJson").GetString()!);
        var values = parameters.RootElement.GetProperty("parameters");
        Assert.Equal("gateway-keys", values.GetProperty("authMode").GetProperty("value").GetString());
        // The default Functions build has the storage-queue triggers; Service Bus needs the other build.
        Assert.Equal("storageQueue", values.GetProperty("captureTransport").GetProperty("value").GetString());
        // The secrets come from the deploying shell's environment (set by this test), not from the file.
        Assert.Equal(TestSecret("LLMTRACE_ADMIN_KEY"), values.GetProperty("adminKey").GetProperty("value").GetString());
        var text = await File.ReadAllTextAsync(Path.Combine(Root, "infra", "prod.bicepparam"));
        Assert.DoesNotContain(TestSecret("LLMTRACE_ADMIN_KEY"), text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AppSettings_HaveNoConnectionStringOrAccountKey()
    {
        var (code, output, errors) = await RunAsync("build", "--stdout", Path.Combine("infra", "main.bicep"));

        Assert.True(code == 0, errors);
        Assert.DoesNotContain("listKeys(", output, StringComparison.Ordinal);
        Assert.DoesNotContain("AccountKey=", output, StringComparison.Ordinal);
        Assert.DoesNotContain("\"AzureWebJobsStorage\"", output, StringComparison.Ordinal);
        Assert.DoesNotContain("FUNCTIONS_WORKER_RUNTIME", output, StringComparison.Ordinal); // rejected by Flex Consumption
        Assert.Contains("AzureWebJobsStorage__credential", output, StringComparison.Ordinal);
        Assert.Contains("allowSharedKeyAccess", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StorageNames_TheTemplateCreatesAndHandsToTheApp_AreTheOnesTheCodeUses()
    {
        var (code, output, errors) = await RunAsync("build", "--stdout", Path.Combine("infra", "main.bicep"));

        Assert.True(code == 0, errors);
        using var document = JsonDocument.Parse(output);
        var resources = document.RootElement.GetProperty("resources");
        var names = resources.GetProperty("storage").GetProperty("properties").GetProperty("template").GetProperty("variables").GetProperty("storageNames");
        var defaults = new LlmTrace.Functions.Infrastructure.AzureStorageOptions();
        Assert.Equal(
            [LlmTrace.Domain.Processing.QueueNames.Captures, LlmTrace.Domain.Processing.QueueNames.Anomaly, LlmTrace.Domain.Processing.QueueNames.Security],
            names.GetProperty("queues").EnumerateArray().Select(q => q.GetString()));
        Assert.Equal(LlmTrace.Domain.Processing.QueueNames.PoisonSuffix, names.GetProperty("poisonSuffix").GetString());
        Assert.Equal(defaults.SpendTable, names.GetProperty("spendTable").GetString());
        Assert.Equal(defaults.AnomalyTable, names.GetProperty("anomalyTable").GetString());
        Assert.Equal(defaults.TrafficTable, names.GetProperty("trafficTable").GetString());
        Assert.Equal(defaults.RecordTablePrefix, names.GetProperty("recordTablePrefix").GetString());
        Assert.Equal(LlmTrace.Domain.Records.RecordTables.All, names.GetProperty("recordTables").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(defaults.ClaimCheckContainer, names.GetProperty("claimCheckContainer").GetString());
        Assert.Equal(defaults.ParkedContainer, names.GetProperty("parkedContainer").GetString());
        Assert.Equal(defaults.PoisonContainer, names.GetProperty("poisonContainer").GetString());
        // And the app is told them, rather than relying on its defaults matching.
        foreach (var setting in new[] { "SpendTable", "AnomalyTable", "TrafficTable", "RecordTablePrefix", "ClaimCheckContainer", "ParkedContainer", "PoisonContainer" })
        {
            Assert.Contains($"'LlmTrace__Storage__{setting}'", output, StringComparison.Ordinal);
        }
    }

    private static bool HasDiagnostics(string text)
        => text.Contains(" : Warning ", StringComparison.Ordinal) || text.Contains(" : Error ", StringComparison.Ordinal) || text.Contains(" : Info ", StringComparison.Ordinal);

    private static async Task<(int Code, string Output, string Errors)> RunAsync(params string[] arguments)
    {
        Assert.True(File.Exists(Bicep), $"The Bicep CLI is restored by the test project (PackageDownload); not found at {Bicep}. It ships for linux-x64 only.");
        var start = new ProcessStartInfo(Bicep)
        {
            WorkingDirectory = Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var name in (string[])["LLMTRACE_ADMIN_KEY", "LLMTRACE_WEBHOOK_SECRET", "LLMTRACE_WEBHOOK_TOKEN"])
        {
            start.Environment[name] = TestSecret(name);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await errors);
    }

    private static string TestSecret(string name) => "test-only-" + name.ToLowerInvariant() + "-0123456789abcdef";

    private static string Metadata(string key)
        => typeof(BicepTemplateTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}
