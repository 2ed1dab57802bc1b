using System.Text.Json;
using Azure.Data.Tables;
using LlmTrace.Domain.Anomalies;

namespace LlmTrace.Functions.Infrastructure;

/// <summary>
/// Anomaly state in Azure Table Storage, one partition per tenant: a <c>state</c> row and an <c>applied|{traceId}</c>
/// marker per trace holding the findings it produced. The new state and the markers commit in one transaction with an
/// ETag check (<see cref="TableFoldStore{TKey, TRow}"/>), so concurrent instances retry and a redelivered trace gets its
/// first findings.
/// </summary>
public sealed class TableAnomalyStateStore(AzureStorageClients clients) : TableFoldStore<Guid, AnomalyState>, IAnomalyStateStore
{
    private const string StateRow = "state";

    // One state row and a marker per trace; the markers' findings keep the transaction far below its 4 MiB.
    public override int MaxItemsPerCommit => 50;

    protected override TableClient Table => clients.Anomaly;

    protected override string MemoProperty => "Findings";

    public override string PartitionOf(Guid key) => key.ToString("N");

    protected override string RowKeyOf(Guid key) => StateRow;

    protected override TableEntity ToEntity(string partition, string rowKey, Guid key, AnomalyState row)
        => new(partition, rowKey) { ["State"] = JsonSerializer.Serialize(row, AnomalyJsonContext.Default.AnomalyState) };

    protected override AnomalyState FromEntity(Guid key, TableEntity entity)
        => entity.GetString("State") is { } json
            ? JsonSerializer.Deserialize(json, AnomalyJsonContext.Default.AnomalyState) ?? AnomalyState.Empty
            : AnomalyState.Empty;
}
