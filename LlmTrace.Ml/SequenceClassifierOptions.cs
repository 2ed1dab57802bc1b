namespace LlmTrace.Ml;

/// <summary>
/// A bring-your-own Hugging Face sequence classifier exported to ONNX. Bound from <c>LlmTrace:Security:Ml:Model</c>;
/// setting <see cref="Path"/> uses it instead of the built-in MiniLM head.
/// </summary>
public sealed class SequenceClassifierOptions
{
    public const string SectionName = "LlmTrace:Security:Ml:Model";

    /// <summary>
    /// The export folder (or its <c>.onnx</c> file): <c>model.onnx</c> (also looked for in <c>onnx/</c>), the tokenizer (a
    /// WordPiece <c>vocab.txt</c>, or the <c>spm.model</c> of a DeBERTa-v2/v3 export), and optionally <c>config.json</c>
    /// (<c>id2label</c>, <c>model_type</c>), <c>tokenizer_config.json</c> (<c>do_lower_case</c>) and
    /// <c>special_tokens_map.json</c> (<c>cls_token</c>, <c>sep_token</c>).
    /// </summary>
    public string? Path { get; set; }

    /// <summary>Output index → label, when <c>config.json</c> has no <c>id2label</c> (or to override it), e.g. <c>0=SAFE</c>, <c>1=INJECTION</c>.</summary>
    public Dictionary<string, string> Labels { get; set; } = [];

    /// <summary>Labels whose probabilities add up to the attack score (compared case-insensitively).</summary>
    public List<string> AttackLabels { get; set; } = ["INJECTION", "JAILBREAK", "MALICIOUS", "UNSAFE"];

    /// <summary>Attack score at or above which the text is reported.</summary>
    public double Threshold { get; set; } = 0.5;

    /// <summary>Longest input in tokens, special tokens included (longer texts are truncated).</summary>
    public int MaxTokens { get; set; } = 512;

    /// <summary>Lower-case before tokenizing; unset: <c>do_lower_case</c> from the export, else true for WordPiece and false for SentencePiece.</summary>
    public bool? LowerCase { get; set; }

    /// <summary>How findings name the detector; unset: <c>ml.onnx:{folder name}</c>.</summary>
    public string? Name { get; set; }
}
