using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using LlmTrace.Domain.Anomalies;
using LlmTrace.Domain.Capture;

namespace LlmTrace.Functions.Infrastructure;

/// <summary>
/// Anomaly state in Azure Table Storage, one partition per tenant: a <c>state</c> row and an <c>applied|{traceId}</c>
/// marker per trace holding the findings it produced. The new state and the marker commit in one transaction with an
/// ETag check, so concurrent instances retry and a redelivered trace gets its first findings.
/// </summary>
public sealed class TableAnomalyStateStore(AzureStorageClients clients, TimeProvider timeProvider) : IAnomalyStateStore
{
    private const string StateRow = "state";

    public async Task<IReadOnlyList<IReadOnlyList<Finding>>> ApplyAsync(IReadOnlyList<Trace> traces, AnomalyDetector detector, CancellationToken cancellationToken)
    {
        var results = new List<IReadOnlyList<Finding>>(traces.Count);
        foreach (var trace in traces)
        {
            results.Add(await ApplyOneAsync(trace, detector, cancellationToken).ConfigureAwait(false));
        }

        return results;
    }

    private Task<IReadOnlyList<Finding>> ApplyOneAsync(Trace trace, AnomalyDetector detector, CancellationToken cancellationToken)
    {
        var table = clients.Anomaly;
        var partition = trace.TenantId.ToString("N");
        var marker = "applied|" + trace.TraceId.ToString("N");
        return TableTransactions.RunAsync<IReadOnlyList<Finding>>(
            async attemptToken =>
            {
                var seen = await table.GetEntityIfExistsAsync<TableEntity>(partition, marker, cancellationToken: attemptToken).ConfigureAwait(false);
                if (seen.HasValue && seen.Value is { } applied)
                {
                    return JsonSerializer.Deserialize(applied.GetString("Findings") ?? "[]", AnomalyJsonContext.Default.ListFinding)!;
                }

                var current = await table.GetEntityIfExistsAsync<TableEntity>(partition, StateRow, cancellationToken: attemptToken).ConfigureAwait(false);
                var existing = current.HasValue ? current.Value : null;
                var state = existing?.GetString("State") is { } json ? JsonSerializer.Deserialize(json, AnomalyJsonContext.Default.AnomalyState)! : AnomalyState.Empty;
                var (next, findings) = detector.Observe(state, trace);

                var stateEntity = new TableEntity(partition, StateRow) { ["State"] = JsonSerializer.Serialize(next, AnomalyJsonContext.Default.AnomalyState) };
                TableTransactionAction[] actions =
                [
                    existing is null
                        ? new TableTransactionAction(TableTransactionActionType.Add, stateEntity)
                        : new TableTransactionAction(TableTransactionActionType.UpdateReplace, stateEntity, existing.ETag),
                    new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(partition, marker)
                    {
                        ["Findings"] = JsonSerializer.Serialize([.. findings], AnomalyJsonContext.Default.ListFinding),
                    }),
                ];
                await table.SubmitTransactionAsync(actions, attemptToken).ConfigureAwait(false);
                return findings;
            },
            timeProvider,
            cancellationToken);
    }
}
