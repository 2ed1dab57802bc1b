using System.Text.Json;
using LlmTrace.Domain.Anomalies;
using Microsoft.Data.Sqlite;

namespace LlmTrace.SelfHost.Infrastructure;

/// <summary>
/// Per-tenant anomaly state in SQLite. A batch is one transaction: the new states and each trace's applied marker (with
/// the findings it produced) commit together, so a redelivered trace gets its first findings and changes nothing.
/// </summary>
public sealed class SqliteAnomalyStateStore(SqliteDatabase database) : SqliteFoldStore<Guid, AnomalyState>(database), IAnomalyStateStore
{
    protected override string ReadMarkersSql => "SELECT trace_id, findings FROM anomaly_applied WHERE trace_id IN (SELECT value FROM json_each($ids))";

    protected override string AddMarkerSql => "INSERT INTO anomaly_applied (trace_id, findings) VALUES ($id, $memo)";

    protected override string ReadRowSql => "SELECT state FROM anomaly_state WHERE tenant_id = $tenant";

    protected override string WriteRowSql => "INSERT INTO anomaly_state (tenant_id, state) VALUES ($tenant, $state) ON CONFLICT (tenant_id) DO UPDATE SET state = excluded.state";

    protected override void BindKey(SqliteParameterCollection parameters, Guid key) => parameters.AddWithValue("$tenant", key.ToString("N"));

    protected override AnomalyState ReadRow(Guid key, SqliteDataReader reader)
        => JsonSerializer.Deserialize((byte[])reader.GetValue(0), AnomalyJsonContext.Default.AnomalyState) ?? AnomalyState.Empty;

    protected override void BindRow(SqliteParameterCollection parameters, Guid key, AnomalyState row)
    {
        BindKey(parameters, key);
        parameters.AddWithValue("$state", JsonSerializer.SerializeToUtf8Bytes(row, AnomalyJsonContext.Default.AnomalyState));
    }
}
