using System.Text.Json;
using LlmTrace.Domain.Security;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace LlmTrace.Ml;

/// <summary>
/// A Hugging Face sequence classifier exported to ONNX (e.g. with <c>optimum-cli export onnx --task text-classification</c>):
/// WordPiece (<c>vocab.txt</c>) or DeBERTa SentencePiece (<c>spm.model</c>) tokenization, the model's own input names (<c>input_ids</c>,
/// <c>attention_mask</c>, <c>token_type_ids</c> when present), a softmax over its logits, and the probabilities of the
/// configured attack labels summed into the score. Everything is checked when it loads, so a wrong export fails at
/// start-up with a message, not on the first call.
/// </summary>
public sealed class HuggingFaceSequenceClassifier : IInjectionClassifier, IDisposable
{
    private readonly InferenceSession _session;
    private readonly ExportTokenizer _tokenizer;
    private readonly string[] _labels;
    private readonly bool[] _attack;
    private readonly int _maxTokens;
    private readonly bool _hasAttentionMask;
    private readonly bool _hasTokenTypes;
    private readonly string _logitsName;

    public HuggingFaceSequenceClassifier(SequenceClassifierOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Path))
        {
            throw new InvalidOperationException($"{SequenceClassifierOptions.SectionName}:Path is not set.");
        }

        var (folder, modelFile) = Locate(options.Path);
        _tokenizer = ExportTokenizer.Load(folder, modelFile, options);
        _maxTokens = options.MaxTokens is >= 8 and <= 8192 ? options.MaxTokens : throw new InvalidOperationException($"{SequenceClassifierOptions.SectionName}:MaxTokens must be from 8 to 8192.");
        Threshold = options.Threshold is > 0 and < 1 ? options.Threshold : throw new InvalidOperationException($"{SequenceClassifierOptions.SectionName}:Threshold must be between 0 and 1.");
        Name = options.Name ?? "ml.onnx:" + new DirectoryInfo(folder).Name;

        _session = new InferenceSession(modelFile, new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = 1 });
        try
        {
            var inputs = _session.InputMetadata;
            if (!inputs.ContainsKey("input_ids"))
            {
                throw new InvalidOperationException($"{modelFile} has no input_ids input (it has {string.Join(", ", inputs.Keys)}).");
            }

            _hasAttentionMask = inputs.ContainsKey("attention_mask");
            _hasTokenTypes = inputs.ContainsKey("token_type_ids");
            var unknown = inputs.Keys.Except(["input_ids", "attention_mask", "token_type_ids"]).ToList();
            if (unknown.Count > 0)
            {
                throw new InvalidOperationException($"{modelFile} expects inputs this loader does not provide: {string.Join(", ", unknown)}.");
            }

            var (name, metadata) = _session.OutputMetadata.FirstOrDefault(o => o.Key == "logits") is { Key: not null } named ? named : _session.OutputMetadata.First();
            if (metadata.Dimensions.Length != 2 || metadata.Dimensions[1] < 2)
            {
                throw new InvalidOperationException($"{modelFile}'s output {name} is not [batch, labels] logits.");
            }

            _logitsName = name;
            _labels = ReadLabels(folder, options.Labels, metadata.Dimensions[1]);
            _attack = [.. _labels.Select(l => options.AttackLabels.Contains(l, StringComparer.OrdinalIgnoreCase))];
            if (!_attack.Any(a => a))
            {
                throw new InvalidOperationException(
                    $"None of the model's labels ({string.Join(", ", _labels)}) is an attack label; set {SequenceClassifierOptions.SectionName}:AttackLabels.");
            }
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    public string Name { get; }

    public double Threshold { get; }

    /// <summary>The model's labels, by output index.</summary>
    public IReadOnlyList<string> Labels => _labels;

    public double Score(string text)
    {
        var ids = _tokenizer.Encode(text, _maxTokens);
        var length = ids.Count;
        var inputIds = new DenseTensor<long>([1, length]);
        var mask = new DenseTensor<long>([1, length]);
        var types = new DenseTensor<long>([1, length]);
        for (var i = 0; i < length; i++)
        {
            inputIds[0, i] = ids[i];
            mask[0, i] = 1;
        }

        var inputs = new List<NamedOnnxValue>(3) { NamedOnnxValue.CreateFromTensor("input_ids", inputIds) };
        if (_hasAttentionMask)
        {
            inputs.Add(NamedOnnxValue.CreateFromTensor("attention_mask", mask));
        }

        if (_hasTokenTypes)
        {
            inputs.Add(NamedOnnxValue.CreateFromTensor("token_type_ids", types));
        }

        using var results = _session.Run(inputs, [_logitsName]);
        var logits = results[0].AsTensor<float>();
        var max = double.NegativeInfinity;
        for (var c = 0; c < _labels.Length; c++)
        {
            max = Math.Max(max, logits[0, c]);
        }

        double total = 0, attack = 0;
        for (var c = 0; c < _labels.Length; c++)
        {
            var p = Math.Exp(logits[0, c] - max);
            total += p;
            attack += _attack[c] ? p : 0;
        }

        return attack / total;
    }

    public void Dispose() => _session.Dispose();

    private static (string Folder, string Model) Locate(string path)
    {
        if (File.Exists(path) && path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
            // optimum puts model.onnx in onnx/ and the tokenizer files one level up.
            return (HasTokenizer(folder) || !Directory.Exists(System.IO.Path.GetDirectoryName(folder)) ? folder : System.IO.Path.GetDirectoryName(folder)!, path);
        }

        if (!Directory.Exists(path))
        {
            throw new InvalidOperationException($"{SequenceClassifierOptions.SectionName}:Path {path} is neither a folder nor an .onnx file.");
        }

        foreach (var candidate in (string[])["model.onnx", "onnx/model.onnx", "model_quantized.onnx", "onnx/model_quantized.onnx"])
        {
            var file = System.IO.Path.Combine(path, candidate);
            if (File.Exists(file))
            {
                return (path, file);
            }
        }

        throw new InvalidOperationException($"No model.onnx in {path} (or in its onnx/ folder).");
    }

    private static string[] ReadLabels(string folder, Dictionary<string, string> configured, long count)
    {
        var labels = new string[count];
        var config = System.IO.Path.Combine(folder, "config.json");
        if (File.Exists(config))
        {
            using var document = JsonDocument.Parse(File.ReadAllText(config));
            if (document.RootElement.TryGetProperty("id2label", out var map) && map.ValueKind == JsonValueKind.Object)
            {
                foreach (var entry in map.EnumerateObject())
                {
                    if (int.TryParse(entry.Name, out var index) && index >= 0 && index < count)
                    {
                        labels[index] = entry.Value.GetString() ?? string.Empty;
                    }
                }
            }
        }

        foreach (var (key, label) in configured)
        {
            if (!int.TryParse(key, out var index) || index < 0 || index >= count)
            {
                throw new InvalidOperationException($"{SequenceClassifierOptions.SectionName}:Labels:{key} is not an output index of this model (0 to {count - 1}).");
            }

            labels[index] = label;
        }

        var missing = Enumerable.Range(0, (int)count).Where(i => string.IsNullOrEmpty(labels[i])).ToList();
        return missing.Count == 0
            ? labels
            : throw new InvalidOperationException($"The model has {count} outputs but no label for index {string.Join(", ", missing)}: add id2label to config.json or set {SequenceClassifierOptions.SectionName}:Labels.");
    }

    private static bool HasTokenizer(string folder)
        => File.Exists(System.IO.Path.Combine(folder, "vocab.txt")) || File.Exists(System.IO.Path.Combine(folder, "spm.model")) || File.Exists(System.IO.Path.Combine(folder, "tokenizer.json"));
}
