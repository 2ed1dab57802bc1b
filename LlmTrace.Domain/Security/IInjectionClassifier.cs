namespace LlmTrace.Domain.Security;

/// <summary>A learned prompt-injection / jailbreak classifier: the probability (0–1) that a text is an attack.</summary>
public interface IInjectionClassifier
{
    string Name { get; }

    /// <summary>The decision threshold fitted with the model.</summary>
    double Threshold { get; }

    double Score(string text);
}
