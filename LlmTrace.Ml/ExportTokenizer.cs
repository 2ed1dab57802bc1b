using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace LlmTrace.Ml;

/// <summary>
/// The tokenizer of a Hugging Face export, chosen by the files next to the model: WordPiece (<c>vocab.txt</c>: BERT,
/// DistilBERT, MiniLM, ELECTRA) or SentencePiece (<c>spm.model</c>, or a Unigram <c>tokenizer.json</c>: DeBERTa-v2/v3,
/// which includes ProtectAI's prompt-injection v2 model and Llama Prompt Guard 2). Either way the ids come framed as <c>[CLS] … [SEP]</c> and cut to the model's length.
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

        var tokenizerJson = Path.Combine(folder, "tokenizer.json");
        if (File.Exists(tokenizerJson) && (modelTypeOrNull(folder) is null or "deberta-v2"))
        {
            // Llama Prompt Guard 2 ships only tokenizer.json: its Unigram model is rebuilt as a SentencePiece model.
            return SentencePiece.FromTokenizerJson(folder, tokenizerJson, options.LowerCase);
        }

        var other = new[] { "tokenizer.json", "sentencepiece.bpe.model", "tokenizer.model", "spiece.model" }.FirstOrDefault(f => File.Exists(Path.Combine(folder, f)));
        throw new InvalidOperationException(other is null
            ? $"No vocab.txt, spm.model or tokenizer.json next to {modelFile}: the classifier needs the export's tokenizer files."
            : $"{folder} has {other} but no vocab.txt or spm.model: only WordPiece (vocab.txt) and DeBERTa SentencePiece (spm.model, or a Unigram tokenizer.json) tokenizers are supported.");

        static string? modelTypeOrNull(string folder) => ReadString(folder, "config.json", "model_type")?.ToLowerInvariant();
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

    /// <summary>A special token's text (<c>cls_token</c>, …) from the export's token files, or the DeBERTa default.</summary>
    private static string TokenName(string folder, string name, string fallback)
        => ReadString(folder, "special_tokens_map.json", name) ?? ReadString(folder, "tokenizer_config.json", name) ?? fallback;

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
        public string Source { get; init; } = "SentencePiece (spm.model)";

        public override string Kind => Source;

        public static SentencePiece Create(string folder, string path, bool lowerCase)
        {
            SentencePieceTokenizer tokenizer;
            using (var stream = File.OpenRead(path))
            {
                tokenizer = SentencePieceTokenizer.Create(stream, addBeginningOfSentence: false, addEndOfSentence: false);
            }

            return new SentencePiece(tokenizer, Special(tokenizer, folder, "cls_token", "[CLS]"), Special(tokenizer, folder, "sep_token", "[SEP]"), lowerCase);
        }

        /// <summary>
        /// A Hugging Face tokenizer.json with a Unigram model, as converted from a DeBERTa-v2/v3 SentencePiece model:
        /// the pieces and scores, the unknown id, the precompiled character map of its normaliser and the Metaspace
        /// prefix are written back into a SentencePiece model for the same tokenizer. Anything the conversion does
        /// not produce (split on punctuation, other normalisers) is refused, rather than tokenized differently.
        /// </summary>
        public static SentencePiece FromTokenizerJson(string folder, string path, bool? lowerCaseSetting)
        {
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(File.ReadAllBytes(path));
            }
            catch (JsonException e)
            {
                throw new InvalidOperationException($"{path} is not valid JSON: {e.Message}", e);
            }

            using var _ = document;
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidOperationException($"{path} has no model: it is not a Hugging Face tokenizer.json.");
            }

            var type = model.TryGetProperty("type", out var t) ? t.GetString() : null;
            if (type != "Unigram")
            {
                throw new InvalidOperationException($"{path} has a {type ?? "untyped"} model; of tokenizer.json files only Unigram (DeBERTa-v2/v3, Llama Prompt Guard 2) is supported.");
            }

            var special = new HashSet<int>();
            if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
            {
                foreach (var token in added.EnumerateArray())
                {
                    if (token.TryGetProperty("special", out var isSpecial) && isSpecial.ValueKind == JsonValueKind.True
                        && token.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.Number)
                    {
                        special.Add(id.GetInt32());
                    }
                }
            }

            var lowerCase = false;
            byte[]? charsMap = null;
            if (root.TryGetProperty("normalizer", out var normalizer) && normalizer.ValueKind == JsonValueKind.Object)
            {
                ReadNormalizer(normalizer, path, ref lowerCase, ref charsMap);
            }

            var addDummyPrefix = true;
            if (root.TryGetProperty("pre_tokenizer", out var preTokenizer) && preTokenizer.ValueKind == JsonValueKind.Object)
            {
                ReadPreTokenizer(preTokenizer, path, ref addDummyPrefix);
            }

            var unkId = model.TryGetProperty("unk_id", out var unk) && unk.ValueKind == JsonValueKind.Number ? unk.GetInt32() : 0;
            if (!model.TryGetProperty("vocab", out var vocabulary) || vocabulary.ValueKind != JsonValueKind.Array || unkId < 0 || unkId >= vocabulary.GetArrayLength())
            {
                throw new InvalidOperationException($"{path} has no Unigram vocabulary that holds its unk_id {unkId}.");
            }

            var byteFallback = model.TryGetProperty("byte_fallback", out var fallback) && fallback.ValueKind == JsonValueKind.True;
            var pieces = new List<(string Piece, float Score, int Type)>();
            foreach (var entry in vocabulary.EnumerateArray())
            {
                var id = pieces.Count;
                var piece = entry[0].GetString() ?? string.Empty;
                var kind = id == unkId ? 2 : special.Contains(id) ? 3 : byteFallback && IsBytePiece(piece) ? 6 : 1;
                pieces.Add((piece, (float)entry[1].GetDouble(), kind));
            }

            // [CLS] and [SEP] stand in the model as its begin and end of sentence, as they do in DeBERTa's spm.model.
            var cls = PieceId(pieces, folder, "cls_token", "[CLS]");
            var sep = PieceId(pieces, folder, "sep_token", "[SEP]");
            var pad = pieces.FindIndex(p => p.Piece == TokenName(folder, "pad_token", "[PAD]"));
            var proto = SentencePieceModelWriter.Write(pieces, unkId, cls, sep, pad, byteFallback, charsMap, addDummyPrefix);
            SentencePieceTokenizer tokenizer;
            using (var stream = new MemoryStream(proto))
            {
                tokenizer = SentencePieceTokenizer.Create(stream, addBeginningOfSentence: false, addEndOfSentence: false);
            }

            return new SentencePiece(tokenizer, Special(tokenizer, folder, "cls_token", "[CLS]"), Special(tokenizer, folder, "sep_token", "[SEP]"), lowerCaseSetting ?? lowerCase)
            {
                Source = "SentencePiece (Unigram tokenizer.json)",
            };
        }

        private static void ReadNormalizer(JsonElement normalizer, string path, ref bool lowerCase, ref byte[]? charsMap)
        {
            switch (normalizer.GetProperty("type").GetString())
            {
                case "Sequence":
                    foreach (var inner in normalizer.GetProperty("normalizers").EnumerateArray())
                    {
                        ReadNormalizer(inner, path, ref lowerCase, ref charsMap);
                    }

                    break;
                case "Lowercase":
                    lowerCase = true;
                    break;
                case "Precompiled":
                    var map = normalizer.GetProperty("precompiled_charsmap");
                    charsMap = map.ValueKind == JsonValueKind.String ? Convert.FromBase64String(map.GetString()!) : [.. map.EnumerateArray().Select(b => b.GetByte())];
                    break;
                case "Strip":
                    // Trimming: SentencePiece's own whitespace handling does the same.
                    break;
                case "Replace" when normalizer.TryGetProperty("pattern", out var pattern) && pattern.TryGetProperty("Regex", out var regex)
                    && regex.GetString() == " {2,}" && normalizer.TryGetProperty("content", out var content) && content.GetString() == " ":
                    // Collapsing spaces: SentencePiece's remove_extra_whitespaces does the same.
                    break;
                case var other:
                    throw new InvalidOperationException($"{path} uses the {other} normaliser, which the SentencePiece rebuild does not reproduce.");
            }
        }

        private static void ReadPreTokenizer(JsonElement preTokenizer, string path, ref bool addDummyPrefix)
        {
            switch (preTokenizer.GetProperty("type").GetString())
            {
                case "Sequence":
                    foreach (var inner in preTokenizer.GetProperty("pretokenizers").EnumerateArray())
                    {
                        ReadPreTokenizer(inner, path, ref addDummyPrefix);
                    }

                    break;
                case "Metaspace":
                    if (preTokenizer.TryGetProperty("prepend_scheme", out var scheme) && scheme.ValueKind == JsonValueKind.String)
                    {
                        addDummyPrefix = scheme.GetString() != "never";
                    }
                    else if (preTokenizer.TryGetProperty("add_prefix_space", out var prefix) && prefix.ValueKind is JsonValueKind.True or JsonValueKind.False)
                    {
                        addDummyPrefix = prefix.GetBoolean();
                    }

                    break;
                case "WhitespaceSplit":
                    break;
                case var other:
                    throw new InvalidOperationException($"{path} uses the {other} pre-tokenizer (for example split_by_punct), which the SentencePiece rebuild does not reproduce.");
            }
        }

        private static int PieceId(List<(string Piece, float Score, int Type)> pieces, string folder, string name, string fallback)
        {
            var token = TokenName(folder, name, fallback);
            var id = pieces.FindIndex(p => p.Piece == token);
            return id >= 0 ? id : throw new InvalidOperationException($"The tokenizer.json in {folder} has no {token} piece ({name}).");
        }

        private static bool IsBytePiece(string piece) => piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>';

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
            var token = TokenName(folder, name, fallback);
            return tokenizer.Vocabulary.TryGetValue(token, out var id)
                ? id
                : throw new InvalidOperationException($"The SentencePiece model in {folder} has no {token} piece ({name}).");
        }
    }
}
