using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmTrace.Domain;

/// <summary>
/// An enum as its wire name (<see cref="JsonStringEnumMemberNameAttribute"/>, e.g. <c>block</c>), read in any case
/// (<c>Block</c>, <c>BLOCK</c>) as configuration is; numbers and unknown names are refused.
/// </summary>
internal sealed class WireEnumConverter<TEnum> : JsonConverter<TEnum>
    where TEnum : struct, Enum
{
    private static readonly Dictionary<TEnum, string> Names = typeof(TEnum)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .ToDictionary(f => (TEnum)f.GetValue(null)!, f => f.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? f.Name);

    private static readonly Dictionary<string, TEnum> Values = Names
        .SelectMany(p => new[] { (Name: p.Value, Value: p.Key), (Name: p.Key.ToString(), Value: p.Key) })
        .DistinctBy(p => p.Name, StringComparer.OrdinalIgnoreCase)
        .ToDictionary(p => p.Name, p => p.Value, StringComparer.OrdinalIgnoreCase);

    public override TEnum Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String && reader.GetString() is { } name && Values.TryGetValue(name.Trim(), out var value))
        {
            return value;
        }

        throw new JsonException($"Expected one of: {string.Join(", ", Names.Values)}.");
    }

    public override void Write(Utf8JsonWriter writer, TEnum value, JsonSerializerOptions options)
        => writer.WriteStringValue(Names.TryGetValue(value, out var name) ? name : value.ToString());

    public override TEnum ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => Read(ref reader, typeToConvert, options);

    public override void WriteAsPropertyName(Utf8JsonWriter writer, TEnum value, JsonSerializerOptions options)
        => writer.WritePropertyName(Names.TryGetValue(value, out var name) ? name : value.ToString());
}
