using System.Text.Json;
using System.Text.Json.Serialization;
using LlmTrace.Domain.Capture;

namespace LlmTrace.Domain.Anomalies;

/// <summary>How stores persist anomaly state and the findings recorded with each applied trace.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(AnomalyState))]
[JsonSerializable(typeof(List<Finding>))]
public sealed partial class AnomalyJsonContext : JsonSerializerContext;
