using System.Globalization;

namespace LlmTrace.Bench;

internal sealed record BenchOptions(int Seconds, int[] Concurrency, int Rounds, string? MarkdownPath, bool Streaming, bool MemoryStore)
{
    public static BenchOptions Parse(string[] args)
    {
        var seconds = 10;
        int[] concurrency = [16, 64];
        var rounds = 2;
        string? markdown = null;
        var streaming = false;
        var memoryStore = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--seconds":
                    seconds = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--concurrency":
                    concurrency = args[++i].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
                    break;
                case "--rounds":
                    rounds = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--markdown":
                    markdown = args[++i];
                    break;
                case "--discard-store":
                    memoryStore = true;
                    break;
                case "--streaming":
                    streaming = true;
                    break;
                default:
                    throw new ArgumentException($"Unknown argument {args[i]}");
            }
        }

        return new BenchOptions(seconds, concurrency, rounds, markdown, streaming, memoryStore);
    }
}
