using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace LlmTrace.SelfHost.Infrastructure;

/// <summary>The embedded store. Bound from <c>LlmTrace:Sqlite</c> (env: <c>LlmTrace__Sqlite__Path</c>).</summary>
public sealed class SqliteOptions
{
    public const string SectionName = "LlmTrace:Sqlite";

    /// <summary>Database file; relative paths are under the working directory.</summary>
    [Required]
    public string Path { get; set; } = ".llmtrace/traces.db";

    /// <summary>Days a trace is kept unless its tenant sets <c>retentionDays</c>; purged every minute. 0 keeps traces forever.</summary>
    [Range(0, 36500)]
    public int RetentionDays { get; set; } = 90;
}

[OptionsValidator]
internal sealed partial class SqliteOptionsValidator : IValidateOptions<SqliteOptions>;
