using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmTrace.Domain.Tenancy;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = false)]
[JsonSerializable(typeof(Tenant))]
[JsonSerializable(typeof(GatewayKey))]
[JsonSerializable(typeof(AuditEntry))]
internal sealed partial class TenancyJsonContext : JsonSerializerContext;
