using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace LlmTrace.Functions.Infrastructure;

/// <summary>
/// Where finished traces live. Bound from <c>LlmTrace:Cosmos</c>. With a connection string the client uses its key;
/// with only <see cref="Endpoint"/> it uses <c>DefaultAzureCredential</c> (the Function App's managed identity).
/// Neither set: traces stay in a bounded in-memory store (local development only).
/// </summary>
public sealed class CosmosOptions
{
    public const string SectionName = "LlmTrace:Cosmos";

    public string? ConnectionString { get; set; }

    public Uri? Endpoint { get; set; }

    [Required]
    public string Database { get; set; } = "llmtrace";

    /// <summary>Partition key <c>/tenantId</c>, id = trace id. Created by the Bicep (never on the request path).</summary>
    [Required]
    public string Container { get; set; } = "traces";

    /// <summary>Days a trace is kept (the item's <c>ttl</c>); the container needs TTL on (default -1).</summary>
    [Range(1, 3650)]
    public int RetentionDays { get; set; } = 90;

    /// <summary>Per-tenant retention in days, overriding <see cref="RetentionDays"/>.</summary>
    public Dictionary<Guid, int> TenantRetentionDays { get; set; } = [];

    /// <summary>Concurrent upserts when a batch is written.</summary>
    [Range(1, 64)]
    public int WriteConcurrency { get; set; } = 8;

    public bool IsConfigured => !string.IsNullOrEmpty(ConnectionString) || Endpoint is not null;
}

[OptionsValidator]
internal sealed partial class CosmosOptionsValidator : IValidateOptions<CosmosOptions>;
