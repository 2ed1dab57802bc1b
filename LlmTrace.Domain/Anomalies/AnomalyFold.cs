using System.Text.Json;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Folding;

namespace LlmTrace.Domain.Anomalies;

/// <summary>How a call folds into its tenant's anomaly state; the findings it raised are its result, kept on its marker.</summary>
internal sealed class AnomalyFold(AnomalyDetector detector) : IFoldRules<Trace, Guid, AnomalyState, IReadOnlyList<Finding>>
{
    public Guid IdOf(Trace item) => item.TraceId;

    public DateTimeOffset AtOf(Trace item) => item.StartedAt;

    public IReadOnlyList<Guid> KeysOf(Trace item) => [item.TenantId];

    public AnomalyState Empty(Guid key) => AnomalyState.Empty;

    public IReadOnlyList<Finding> Fold(Trace item, FoldRows<Guid, AnomalyState> rows)
    {
        var (next, findings) = detector.Observe(rows[item.TenantId], item);
        rows[item.TenantId] = next;
        return findings;
    }

    public string? Memo(IReadOnlyList<Finding> result) => JsonSerializer.Serialize([.. result], AnomalyJsonContext.Default.ListFinding);

    public IReadOnlyList<Finding> Repeat(Trace item, string? memo)
        => memo is null ? [] : JsonSerializer.Deserialize(memo, AnomalyJsonContext.Default.ListFinding) ?? [];
}
