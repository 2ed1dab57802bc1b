using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace LlmTrace.Ml;

/// <summary>
/// The tokenizer of a Hugging Face export, chosen by the files next to the model: WordPiece (<c>vocab.txt</c>: BERT,
/// DistilBERT, MiniLM, ELECTRA) or SentencePiece (<c>spm.model</c>: DeBERTa-v2/v3, which includes ProtectAI's
/// prompt-injection v2 model). Either way the ids come framed as <c>[CLS] … [SEP]</c> and cut to the model's length.
/// </summary>
internal abstract class ExportTokenizer
{
    /// <summary>A short description for logs and errors, e.g. <c>WordPiece (vocab.txt)</c>.</summary>
    public abstract string Kind { get; }

    /// <summary>Token ids with the special tokens, at most <paramref name="maxTokens"/> of them.</summary>
    public abstract IReadOnlyList<int> Encode(string text, int maxTokens);

    public static ExportTokenizer Load(string folder, string modelFile, SequenceClassifierOptions options)
    {
        var vocab = Path.Combine(folder, "vocab.txt");
        if (File.Exists(vocab))
        {
            var lowerCase = options.LowerCase ?? ReadLowerCase(folder) ?? true;
            return new WordPiece(BertTokenizer.Create(vocab, new BertOptions { LowerCaseBeforeTokenization = lowerCase }));
        }

        var sentencePiece = Path.Combine(folder, "spm.model");
        if (File.Exists(sentencePiece))
        {
            var modelType = ReadString(folder, "config.json", "model_type");
            if (modelType is not null && !string.Equals(modelType, "deberta-v2", StringComparison.OrdinalIgnoreCase))
            {
                // XLM-R, CamemBERT and others shift SentencePiece ids by a fixed offset: running them with raw ids would
                // give confident nonsense, so they are refused.
                throw new InvalidOperationException(
                    $"{folder} has spm.model for model type {modelType}; SentencePiece is supported for DeBERTa-v2/v3 exports (model_type deberta-v2) only.");
            }

            return SentencePiece.Create(folder, sentencePiece, options.LowerCase ?? ReadLowerCase(folder) ?? false);
        }

        var other = new[] { "tokenizer.json", "sentencepiece.bpe.model", "tokenizer.model", "spiece.model" }.FirstOrDefault(f => File.Exists(Path.Combine(folder, f)));
        throw new InvalidOperationException(other is null
            ? $"No vocab.txt or spm.model next to {modelFile}: the classifier needs the export's tokenizer files."
            : $"{folder} has {other} but no vocab.txt or spm.model: only WordPiece (vocab.txt) and DeBERTa SentencePiece (spm.model) tokenizers are supported.");
    }

    private static bool? ReadLowerCase(string folder)
    {
        foreach (var file in (string[])["tokenizer_config.json", "config.json"])
        {
            var path = Path.Combine(folder, file);
            if (!File.Exists(path))
            {
                continue;
            }

            using var document = JsonDocument.Parse(File.ReadAllText(path));
            if (document.RootElement.TryGetProperty("do_lower_case", out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                return value.GetBoolean();
            }
        }

        return null;
    }

    /// <summary>A string property of a JSON file in the folder, or of an object with <c>content</c> (how special tokens are saved).</summary>
    private static string? ReadString(string folder, string file, string property)
    {
        var path = Path.Combine(folder, file);
        if (!File.Exists(path))
        {
            return null;
        }

        using var document = JsonDocument.Parse(File.ReadAllText(path));
        if (!document.RootElement.TryGetProperty(property, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object when value.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String => content.GetString(),
            _ => null,
        };
    }

    private sealed class WordPiece(BertTokenizer tokenizer) : ExportTokenizer
    {
        public override string Kind => "WordPiece (vocab.txt)";

        public override IReadOnlyList<int> Encode(string text, int maxTokens)
            => tokenizer.EncodeToIds(text, maxTokens, addSpecialTokens: true, out _, out _);
    }

    private sealed class SentencePiece(SentencePieceTokenizer tokenizer, int cls, int sep, bool lowerCase) : ExportTokenizer
    {
        public override string Kind => "SentencePiece (spm.model)";

        public static SentencePiece Create(string folder, string path, bool lowerCase)
        {
            SentencePieceTokenizer tokenizer;
            using (var stream = File.OpenRead(path))
            {
                tokenizer = SentencePieceTokenizer.Create(stream, addBeginningOfSentence: false, addEndOfSentence: false);
            }

            return new SentencePiece(tokenizer, Special(tokenizer, folder, "cls_token", "[CLS]"), Special(tokenizer, folder, "sep_token", "[SEP]"), lowerCase);
        }

        public override IReadOnlyList<int> Encode(string text, int maxTokens)
        {
            // SentencePiece merges a run of unknown characters into one [UNK]; this tokenizer emits one per character.
            // Merge them as the reference does, asking for extra ids first so that the merged ids still fill the model.
            var body = tokenizer.EncodeToIds(lowerCase ? text.ToLowerInvariant() : text, addBeginningOfSentence: false, addEndOfSentence: false, (maxTokens - 2) * 4, out _, out _);
            var ids = new List<int>(maxTokens) { cls };
            for (var i = 0; i < body.Count && ids.Count < maxTokens - 1; i++)
            {
                if (body[i] == tokenizer.UnknownId && ids[^1] == tokenizer.UnknownId && ids.Count > 1)
                {
                    continue;
                }

                ids.Add(body[i]);
            }

            ids.Add(sep);
            return ids;
        }

        private static int Special(SentencePieceTokenizer tokenizer, string folder, string name, string fallback)
        {
            var token = ReadString(folder, "special_tokens_map.json", name) ?? ReadString(folder, "tokenizer_config.json", name) ?? fallback;
            return tokenizer.Vocabulary.TryGetValue(token, out var id)
                ? id
                : throw new InvalidOperationException($"The SentencePiece model in {folder} has no {token} piece ({name}).");
        }
    }
}
