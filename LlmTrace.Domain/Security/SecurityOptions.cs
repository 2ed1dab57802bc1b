namespace LlmTrace.Domain.Security;

/// <summary>What is kept of sensitive data. Bound from <c>LlmTrace:Security</c>.</summary>
public sealed class SecurityOptions
{
    public const string SectionName = "LlmTrace:Security";

    /// <summary><c>Keep</c> or <c>Redact</c> PII in stored traces. Secrets are always redacted before anything is persisted.</summary>
    public PiiHandling PiiHandling { get; set; } = PiiHandling.Keep;

    /// <summary>Score at or above which the fast injection rules report a finding.</summary>
    public double InjectionThreshold { get; set; } = PromptInjectionDetector.DefaultThreshold;
}

public enum PiiHandling
{
    Keep,
    Redact,
}
