using System.Diagnostics;

namespace LlmTrace.Tests.Infrastructure;

/// <summary>
/// An Azurite of a test's own (from the repository's node_modules, installed by scripts/test.sh), keeping its data on
/// disk so it can be stopped and started again on the same ports — a storage outage the test controls.
/// </summary>
public sealed class AzuriteProcess : IAsyncDisposable
{
    private readonly string _location = Directory.CreateTempSubdirectory("llmtrace-azurite-").FullName;
    private readonly int _blob = Ports.Free();
    private readonly int _queue = Ports.Free();
    private readonly int _table = Ports.Free();
    private Process? _process;

    public string ConnectionString => "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        + "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
        + $"BlobEndpoint=http://127.0.0.1:{_blob}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{_queue}/devstoreaccount1;"
        + $"TableEndpoint=http://127.0.0.1:{_table}/devstoreaccount1;";

    public static async Task<AzuriteProcess> StartNewAsync()
    {
        var azurite = new AzuriteProcess();
        await azurite.StartAsync();
        return azurite;
    }

    public async Task StartAsync()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "LlmTrace.sln")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("The repository root was not found.");
        }

        var executable = Path.Combine(root, "node_modules", ".bin", "azurite");
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException("Azurite is not installed. Run the tests with ./scripts/test.sh, which installs it.");
        }

        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[]
        {
            "--silent", "--skipApiVersionCheck", "--loose", "--location", _location,
            "--blobHost", "127.0.0.1", "--blobPort", _blob.ToString(), "--queueHost", "127.0.0.1", "--queuePort", _queue.ToString(),
            "--tableHost", "127.0.0.1", "--tablePort", _table.ToString(),
        })
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!(Ports.Listening(_blob) && Ports.Listening(_queue) && Ports.Listening(_table)))
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException("Azurite did not start.");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Stops the emulator: every connection is refused until <see cref="StartAsync"/>. SIGTERM, not SIGKILL: Azurite
    /// saves its metadata to disk on an interval, so a killed emulator would lose writes it had acknowledged, which Azure
    /// Storage never does.
    /// </summary>
    public void Stop()
    {
        if (_process is { HasExited: false })
        {
            using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString()]))
            {
                term.WaitForExit();
            }

            if (!_process.WaitForExit(TimeSpan.FromSeconds(15)))
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }
        }

        _process?.Dispose();
        _process = null;
    }

    public ValueTask DisposeAsync()
    {
        Stop();
        try
        {
            Directory.Delete(_location, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by the dying emulator: the temp directory is cleaned up by the machine.
        }

        return ValueTask.CompletedTask;
    }
}
