using Microsoft.ML.Tokenizers;

namespace LlmTrace.Domain.Capture;

/// <summary>
/// Counts tokens when a provider reports no usage, with the model's own tiktoken encoding where it is public
/// (o200k_base for GPT-4o/4.1/5 and o-series, cl100k_base for GPT-4/3.5 and embeddings) and o200k_base as the
/// closest public approximation for other families. Results are marked estimated on the trace.
/// </summary>
public sealed class TokenEstimator
{
    // OpenAI's chat format adds about three tokens per message and three to prime the reply.
    private const int TokensPerMessage = 3;
    private const int ReplyPriming = 3;

    private static readonly Lazy<Tokenizer> O200k = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));
    private static readonly Lazy<Tokenizer> Cl100k = new(() => TiktokenTokenizer.CreateForEncoding("cl100k_base"));

    /// <summary>The encoding used for <paramref name="model"/>: "o200k_base" or "cl100k_base".</summary>
    public static string EncodingFor(string? model)
    {
        var name = model?.ToLowerInvariant() ?? string.Empty;
        var slash = name.LastIndexOf('/');
        if (slash >= 0)
        {
            name = name[(slash + 1)..];
        }

        if (name.StartsWith("gpt-4o", StringComparison.Ordinal)
            || name.StartsWith("gpt-4.1", StringComparison.Ordinal)
            || name.StartsWith("gpt-4.5", StringComparison.Ordinal))
        {
            return "o200k_base";
        }

        if (name.StartsWith("gpt-4", StringComparison.Ordinal) || name.StartsWith("gpt-35", StringComparison.Ordinal)
            || name.StartsWith("gpt-3.5", StringComparison.Ordinal) || name.StartsWith("text-embedding-", StringComparison.Ordinal))
        {
            return "cl100k_base";
        }

        return "o200k_base";
    }

    public int CountText(string? model, string? text)
        => string.IsNullOrEmpty(text) ? 0 : TokenizerFor(model).CountTokens(text);

    /// <summary>Prompt tokens for a chat-style request: text tokens plus the per-message framing.</summary>
    public int CountPrompt(string? model, string? prompt, int messageCount)
    {
        var tokens = CountText(model, prompt);
        return messageCount > 0 ? tokens + (messageCount * TokensPerMessage) + ReplyPriming : tokens;
    }

    private static Tokenizer TokenizerFor(string? model)
        => EncodingFor(model) == "cl100k_base" ? Cl100k.Value : O200k.Value;
}
