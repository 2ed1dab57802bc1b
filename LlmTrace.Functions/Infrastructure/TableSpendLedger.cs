using System.Text;
using Azure;
using Azure.Data.Tables;
using LlmTrace.Domain.Budgets;

namespace LlmTrace.Functions.Infrastructure;

/// <summary>
/// The spend ledger in Azure Table Storage, one partition per tenant. Each call's window increments and its applied
/// marker go in one entity-group transaction, with optimistic concurrency on the counters (ETags): a redelivered call
/// finds its marker and counts nothing, and two instances updating the same window retry instead of losing an update.
/// </summary>
public sealed class TableSpendLedger(AzureStorageClients clients, TimeProvider timeProvider) : ISpendLedger
{
    private const string TenantScope = "_";

    private TableClient Table => clients.Spend;

    public async Task<IReadOnlyList<SpendApplication>> ApplyAsync(IReadOnlyList<SpendEntry> entries, CancellationToken cancellationToken)
    {
        var results = new List<SpendApplication>(entries.Count);
        foreach (var entry in entries)
        {
            results.Add(await ApplyOneAsync(entry, cancellationToken).ConfigureAwait(false));
        }

        return results;
    }

    public async Task<IReadOnlyList<SpendTotal>> GetTotalsAsync(Guid tenantId, string? agentId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var windows = BudgetWindow.AllContaining(at);
        var rows = await ReadRowsAsync(tenantId.ToString("N"), windows.Select(w => RowKey(agentId, w)).ToList(), cancellationToken).ConfigureAwait(false);
        return [.. windows.Select(w => rows.TryGetValue(RowKey(agentId, w), out var row) ? ToTotal(row) : new SpendTotal(w.Kind, w.Key, w.Start, w.End, agentId, 0, 0, 0))];
    }

    public async Task<IReadOnlyList<(Guid TenantId, SpendTotal Total)>> GetEndedOpenWindowsAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        var ended = new List<(Guid, SpendTotal)>();
        var filter = TableClient.CreateQueryFilter($"Closed eq {false} and EndAt le {now}");
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, maxPerPage: Math.Min(max, 1000), cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            ended.Add((Guid.ParseExact(row.PartitionKey, "N"), ToTotal(row)));
            if (ended.Count >= max)
            {
                break;
            }
        }

        return [.. ended.OrderBy(e => e.Item2.End)];
    }

    public async Task CloseWindowAsync(Guid tenantId, SpendTotal total, CancellationToken cancellationToken)
    {
        var update = new TableEntity(tenantId.ToString("N"), RowKey(total.AgentId, total.WindowKey)) { ["Closed"] = true };
        try
        {
            await Table.UpdateEntityAsync(update, ETag.All, TableUpdateMode.Merge, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Nothing to close.
        }
    }

    private Task<SpendApplication> ApplyOneAsync(SpendEntry entry, CancellationToken cancellationToken)
    {
        var partition = entry.TenantId.ToString("N");
        var marker = "applied|" + entry.TraceId.ToString("N");
        var targets = SpendMath.Scopes(entry).SelectMany(agent => BudgetWindow.AllContaining(entry.At).Select(w => (Agent: agent, Window: w, Key: RowKey(agent, w)))).ToList();
        return TableTransactions.RunAsync(
            async attemptToken =>
            {
                var rows = await ReadRowsAsync(partition, [marker, .. targets.Select(t => t.Key)], attemptToken).ConfigureAwait(false);
                if (rows.ContainsKey(marker))
                {
                    return new SpendApplication(false, []);
                }

                var actions = new List<TableTransactionAction>(targets.Count + 1);
                var changes = new List<(SpendTotal, SpendTotal)>(targets.Count);
                foreach (var (agent, window, key) in targets)
                {
                    var existing = rows.GetValueOrDefault(key);
                    var before = existing is null ? SpendCounter.Empty(window) : ToCounter(window, existing);
                    var after = before.Add(entry);
                    var entity = ToEntity(partition, key, after.ToTotal(agent), after.Closed);
                    actions.Add(existing is null
                        ? new TableTransactionAction(TableTransactionActionType.Add, entity)
                        : new TableTransactionAction(TableTransactionActionType.UpdateReplace, entity, existing.ETag));
                    changes.Add((before.ToTotal(agent), after.ToTotal(agent)));
                }

                actions.Add(new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(partition, marker) { ["At"] = entry.At }));
                await Table.SubmitTransactionAsync(actions, attemptToken).ConfigureAwait(false);
                return new SpendApplication(true, changes);
            },
            timeProvider,
            cancellationToken);
    }

    private async Task<Dictionary<string, TableEntity>> ReadRowsAsync(string partition, IReadOnlyList<string> rowKeys, CancellationToken cancellationToken)
    {
        var filter = new StringBuilder(TableClient.CreateQueryFilter($"PartitionKey eq {partition}")).Append(" and (");
        for (var i = 0; i < rowKeys.Count; i++)
        {
            filter.Append(i == 0 ? string.Empty : " or ").Append(TableClient.CreateQueryFilter($"RowKey eq {rowKeys[i]}"));
        }

        filter.Append(')');
        var rows = new Dictionary<string, TableEntity>(StringComparer.Ordinal);
        await foreach (var row in Table.QueryAsync<TableEntity>(filter.ToString(), cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            rows[row.RowKey] = row;
        }

        return rows;
    }

    /// <summary><c>_|{window}</c> for the tenant, <c>a-{hex of the agent id}|{window}</c> for an agent (agent ids may hold characters row keys forbid).</summary>
    private static string RowKey(string? agent, BudgetWindow window) => RowKey(agent, window.Key);

    private static string RowKey(string? agent, string windowKey)
        => (agent is null ? TenantScope : "a-" + Convert.ToHexStringLower(Encoding.UTF8.GetBytes(agent))) + "|" + windowKey;

    private static TableEntity ToEntity(string partition, string rowKey, SpendTotal total, bool closed) => new(partition, rowKey)
    {
        ["Kind"] = (int)total.Kind,
        ["WindowKey"] = total.WindowKey,
        ["StartAt"] = total.Start,
        ["EndAt"] = total.End,
        ["AgentId"] = total.AgentId,
        ["NanoUsd"] = SpendMath.ToNanoUsd(total.CostUsd),
        ["Tokens"] = total.Tokens,
        ["Requests"] = total.Requests,
        ["Closed"] = closed,
    };

    private static SpendCounter ToCounter(BudgetWindow window, TableEntity row)
        => new(window, row.GetInt64("NanoUsd") ?? 0, row.GetInt64("Tokens") ?? 0, row.GetInt64("Requests") ?? 0, row.GetBoolean("Closed") ?? false);

    private static SpendTotal ToTotal(TableEntity row) => new(
        (WindowKind)row.GetInt32("Kind")!.Value,
        row.GetString("WindowKey"),
        row.GetDateTimeOffset("StartAt")!.Value,
        row.GetDateTimeOffset("EndAt")!.Value,
        row.GetString("AgentId"),
        SpendMath.FromNanoUsd(row.GetInt64("NanoUsd") ?? 0),
        row.GetInt64("Tokens") ?? 0,
        row.GetInt64("Requests") ?? 0);
}
