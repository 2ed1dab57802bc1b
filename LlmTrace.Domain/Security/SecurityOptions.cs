using LlmTrace.Domain.Capture;

namespace LlmTrace.Domain.Security;

/// <summary>What is kept of sensitive data. Bound from <c>LlmTrace:Security</c>.</summary>
public sealed class SecurityOptions
{
    public const string SectionName = "LlmTrace:Security";

    /// <summary><c>Keep</c> or <c>Redact</c> PII in stored traces. Secrets are always redacted before anything is persisted.</summary>
    public PiiHandling PiiHandling { get; set; } = PiiHandling.Keep;

    /// <summary>Score at or above which the fast injection rules report a finding.</summary>
    public double InjectionThreshold { get; set; } = PromptInjectionDetector.DefaultThreshold;

    /// <summary>
    /// How the rules and the ML classifier (when one is registered) are combined. <see cref="EnsembleMode.Gated"/> by
    /// default: on prompts unlike the training data (leave-one-source-out) it keeps false positives under 5 %, where
    /// <see cref="EnsembleMode.Union"/> has more recall at about 10 %.
    /// </summary>
    public EnsembleMode EnsembleMode { get; set; } = EnsembleMode.Gated;

    /// <summary>Watching streamed output while it flows (OpenAI-style and Anthropic SSE).</summary>
    public StreamMonitorOptions StreamMonitor { get; set; } = new();
}

/// <summary>Bound from <c>LlmTrace:Security:StreamMonitor</c>.</summary>
public sealed class StreamMonitorOptions
{
    /// <summary>Analyse streamed output as it flows. Off by default: it holds each event until it is complete.</summary>
    public bool Enabled { get; set; }

    /// <summary>Analyse the accumulated output every this many (estimated) tokens.</summary>
    public int EveryTokens { get; set; } = 50;

    /// <summary>End the client's stream (as a normal content-filter finish) and cancel the upstream call on a serious finding.</summary>
    public bool EarlyStop { get; set; } = true;

    /// <summary>Findings at or above this severity stop the stream.</summary>
    public FindingSeverity StopSeverity { get; set; } = FindingSeverity.Critical;
}

[System.Text.Json.Serialization.JsonConverter(typeof(WireEnumConverter<PiiHandling>))]
public enum PiiHandling
{
    [System.Text.Json.Serialization.JsonStringEnumMemberName("keep")]
    Keep,
    [System.Text.Json.Serialization.JsonStringEnumMemberName("redact")]
    Redact,
}
