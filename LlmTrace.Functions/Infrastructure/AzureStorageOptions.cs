using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace LlmTrace.Functions.Infrastructure;

/// <summary>
/// The storage account behind the capture queues, claim checks, spend ledger and anomaly state. Bound from
/// <c>LlmTrace:Storage</c>. With a connection string the adapters use it; without one they use the service URIs and
/// <c>DefaultAzureCredential</c> (the Function App's managed identity).
/// </summary>
public sealed class AzureStorageOptions
{
    public const string SectionName = "LlmTrace:Storage";

    /// <summary>Falls back to <c>AzureWebJobsStorage</c> when unset.</summary>
    public string? ConnectionString { get; set; }

    public Uri? QueueServiceUri { get; set; }

    public Uri? BlobServiceUri { get; set; }

    public Uri? TableServiceUri { get; set; }

    [Required]
    public string ClaimCheckContainer { get; set; } = "llmtrace-claimchecks";

    [Required]
    public string ParkedContainer { get; set; } = "llmtrace-parked";

    [Required]
    public string PoisonContainer { get; set; } = "llmtrace-poison";

    [Required]
    public string SpendTable { get; set; } = "llmtracespend";

    [Required]
    public string AnomalyTable { get; set; } = "llmtraceanomaly";

    /// <summary>The dashboard's pre-aggregated traffic counters.</summary>
    [Required]
    public string TrafficTable { get; set; } = "llmtracetraffic";

    /// <summary>Prefix of the tables for tenants, gateway keys, the audit log and rate-limit counters (e.g. <c>llmtracetenants</c>).</summary>
    public string RecordTablePrefix { get; set; } = "llmtrace";
}

[OptionsValidator]
internal sealed partial class AzureStorageOptionsValidator : IValidateOptions<AzureStorageOptions>;
