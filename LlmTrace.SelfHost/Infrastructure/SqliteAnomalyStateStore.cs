using System.Text.Json;
using LlmTrace.Domain.Anomalies;
using LlmTrace.Domain.Capture;
using Microsoft.Data.Sqlite;

namespace LlmTrace.SelfHost.Infrastructure;

/// <summary>
/// Per-tenant anomaly state in SQLite. A batch is one transaction: the new states and each trace's applied marker (with
/// the findings it produced) commit together, so a redelivered trace gets its first findings and changes nothing.
/// </summary>
public sealed class SqliteAnomalyStateStore(SqliteDatabase database) : IAnomalyStateStore
{
    public Task<IReadOnlyList<IReadOnlyList<Finding>>> ApplyAsync(IReadOnlyList<Trace> traces, AnomalyDetector detector, CancellationToken cancellationToken)
        => database.WriteAsync<IReadOnlyList<IReadOnlyList<Finding>>>(async (connection, transaction) =>
        {
            var states = new Dictionary<Guid, AnomalyState>();
            var results = new List<IReadOnlyList<Finding>>(traces.Count);
            // One prepared statement of each kind per batch: only the parameters change from trace to trace.
            await using var seen = SqliteDatabase.Command(connection, transaction, "SELECT findings FROM anomaly_applied WHERE trace_id = $id");
            var seenId = seen.Parameters.Add("$id", SqliteType.Text);
            await using var load = SqliteDatabase.Command(connection, transaction, "SELECT state FROM anomaly_state WHERE tenant_id = $tenant");
            var loadTenant = load.Parameters.Add("$tenant", SqliteType.Text);
            await using var mark = SqliteDatabase.Command(connection, transaction, "INSERT INTO anomaly_applied (trace_id, findings) VALUES ($id, $findings)");
            var markId = mark.Parameters.Add("$id", SqliteType.Text);
            var markFindings = mark.Parameters.Add("$findings", SqliteType.Blob);
            foreach (var trace in traces)
            {
                var traceId = trace.TraceId.ToString("N");
                seenId.Value = traceId;
                if (await seen.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is byte[] stored)
                {
                    results.Add(JsonSerializer.Deserialize(stored, AnomalyJsonContext.Default.ListFinding)!);
                    continue;
                }

                if (!states.TryGetValue(trace.TenantId, out var state))
                {
                    loadTenant.Value = trace.TenantId.ToString("N");
                    state = await load.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is byte[] json
                        ? JsonSerializer.Deserialize(json, AnomalyJsonContext.Default.AnomalyState)!
                        : AnomalyState.Empty;
                }

                var (next, findings) = detector.Observe(state, trace);
                states[trace.TenantId] = next;
                results.Add(findings);
                markId.Value = traceId;
                markFindings.Value = JsonSerializer.SerializeToUtf8Bytes([.. findings], AnomalyJsonContext.Default.ListFinding);
                await mark.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await using var save = SqliteDatabase.Command(connection, transaction, "INSERT INTO anomaly_state (tenant_id, state) VALUES ($tenant, $state) ON CONFLICT (tenant_id) DO UPDATE SET state = excluded.state");
            var saveTenant = save.Parameters.Add("$tenant", SqliteType.Text);
            var saveState = save.Parameters.Add("$state", SqliteType.Blob);
            foreach (var (tenantId, state) in states)
            {
                saveTenant.Value = tenantId.ToString("N");
                saveState.Value = JsonSerializer.SerializeToUtf8Bytes(state, AnomalyJsonContext.Default.AnomalyState);
                await save.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return results;
        }, cancellationToken);
}
