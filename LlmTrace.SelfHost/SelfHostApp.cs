using LlmTrace.Domain;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Management;
using LlmTrace.Ml;
using LlmTrace.SelfHost.Infrastructure;

namespace LlmTrace.SelfHost;

/// <summary>The single-process host: the gateway on Kestrel, the in-process capture queue and a SQLite trace store.</summary>
public static class SelfHostApp
{
    public const string DefaultUrl = "http://127.0.0.1:7071";

    /// <summary>Read by every <c>PhysicalFileProvider</c> when it is created: poll the files it watches instead of a recursive OS watch.</summary>
    internal const string PollingFileWatcherVariable = "DOTNET_USE_POLLING_FILE_WATCHER";

    /// <param name="configure">Lets tests and benchmarks adjust the builder (configuration, handlers) before it is built.</param>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // appsettings.json is watched for changes through the content root, usually the working directory, which also
        // holds the data folder. An OS watch there is recursive, so every SQLite and journal write would wake it
        // (about 5 % of the gateway's CPU under load). The configuration files are polled instead (every 4 s), unless the
        // operator chose otherwise.
        if (Environment.GetEnvironmentVariable(PollingFileWatcherVariable) is null)
        {
            Environment.SetEnvironmentVariable(PollingFileWatcherVariable, "true");
        }

        var builder = WebApplication.CreateBuilder(args);
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // The proxy enforces its own, configurable body limit with a provider-shaped 413.
            kestrel.Limits.MaxRequestBodySize = null;
        });

        builder.AddGatewayCore();
        builder.Services.PostConfigure<ManagementOptions>(options => options.AllowLoopbackWithoutKey = true);
        builder.Services.AddInProcessCaptureQueue();
        // Unless set, the capture journal lives with the database it feeds, so each data folder has its own.
        builder.Services.AddOptions<JournalOptions>().PostConfigure<IConfiguration>((journal, configuration) =>
        {
            if (string.IsNullOrEmpty(configuration[JournalOptions.SectionName + ":Directory"]))
            {
                var database = configuration[SqliteOptions.SectionName + ":Path"] ?? new SqliteOptions().Path;
                journal.Directory = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(database)) ?? ".", "journal");
            }
        });

        builder.Services.AddSqliteStores();
        configure?.Invoke(builder);
        // After the caller's configuration: whether the model is loaded, and whether telemetry runs, follow the final settings.
        builder.Services.AddMlDetector(builder.Configuration);
        builder.AddSelfHostTelemetry();

        var app = builder.Build();
        app.MapMetrics();
        app.MapGateway();
        return app;
    }
}
