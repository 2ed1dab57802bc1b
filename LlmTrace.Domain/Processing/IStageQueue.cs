namespace LlmTrace.Domain.Processing;

/// <summary>The queues between the processing stages: captures → cost → anomaly → security (+ store).</summary>
public interface IStageQueue
{
    /// <summary>Sends an encoded message (see <see cref="CaptureMessageCodec"/>) to the queue of <paramref name="stage"/>.</summary>
    Task SendAsync(string stage, string message, CancellationToken cancellationToken);
}

/// <summary>Queue names, shared by the triggers, the senders and the Bicep.</summary>
public static class QueueNames
{
    /// <summary>Captured traces from the HTTP path; read by cost accounting.</summary>
    public const string Captures = "llmtrace-captures";

    /// <summary>Priced traces; read by anomaly detection.</summary>
    public const string Anomaly = "llmtrace-anomaly";

    /// <summary>Priced and scored traces; read by security analysis, which stores the trace.</summary>
    public const string Security = "llmtrace-security";

    public const string PoisonSuffix = "-poison";

    public static string ForStage(string stage) => stage switch
    {
        "cost" => Captures,
        "anomaly" => Anomaly,
        "security" => Security,
        _ => throw new ArgumentOutOfRangeException(nameof(stage), stage, "Unknown stage."),
    };
}
