using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Anomalies;

/// <summary>Bound from <c>LlmTrace:Anomalies</c>.</summary>
public sealed class AnomalyOptions
{
    public const string SectionName = "LlmTrace:Anomalies";

    /// <summary>Flag a value this many standard deviations above the tenant's rolling mean.</summary>
    [Range(1.0, 20.0)]
    public double Sigma { get; set; } = 4.0;

    /// <summary>Observations a tenant needs before anything is flagged.</summary>
    [Range(2, 100_000)]
    public int MinSamples { get; set; } = 30;

    /// <summary>Weight of a new observation in the exponentially weighted mean and variance.</summary>
    [Range(0.001, 0.5)]
    public double Alpha { get; set; } = 0.05;
}

[OptionsValidator]
internal sealed partial class AnomalyOptionsValidator : IValidateOptions<AnomalyOptions>;
