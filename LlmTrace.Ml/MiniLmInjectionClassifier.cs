using LlmTrace.Domain.Security;

namespace LlmTrace.Ml;

/// <summary>The ML prompt-injection detector: MiniLM embedding and hashed lexical features, then the trained logistic-regression head.</summary>
public sealed class MiniLmInjectionClassifier(MiniLmEmbedder embedder, LinearHead head) : IInjectionClassifier
{
    public string Name => head.Lexical is null ? "ml.minilm-logreg" : "ml.minilm-lexical-logreg";

    public double Threshold => head.Threshold;

    public double Score(string text) => head.Score(embedder.Embed(text), text);
}
