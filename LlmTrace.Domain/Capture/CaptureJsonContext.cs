using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmTrace.Domain.Capture;

[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    WriteIndented = false)]
[JsonSerializable(typeof(Trace))]
[JsonSerializable(typeof(TracePage))]
[JsonSerializable(typeof(List<Trace>))]
public sealed partial class CaptureJsonContext : JsonSerializerContext;
