using System.Text;
using Azure;
using Azure.Data.Tables;
using LlmTrace.Domain.Budgets;

namespace LlmTrace.Functions.Infrastructure;

/// <summary>
/// The spend ledger in Azure Table Storage, one partition per tenant, folded by <see cref="TableFoldStore{TKey, TRow}"/>:
/// window increments and applied markers go in one entity-group transaction with ETag conditions, so a redelivered call
/// counts nothing and two instances updating the same window retry instead of losing an update.
/// </summary>
public sealed class TableSpendLedger(AzureStorageClients clients) : TableFoldStore<SpendKey, SpendCounter>, ISpendLedger
{
    private const string TenantScope = "_";

    // Eight window rows and a marker per call at most: ten calls stay within a transaction's 100 actions.
    public override int MaxItemsPerCommit => 10;

    protected override TableClient Table => clients.Spend;

    public override string PartitionOf(SpendKey key) => key.TenantId.ToString("N");

    public async Task<IReadOnlyList<SpendTotal>> GetTotalsAsync(Guid tenantId, string? agentId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        SpendKey[] keys = [.. BudgetWindow.AllContaining(at).Select(w => new SpendKey(tenantId, agentId, w))];
        var rows = await ReadRowsAsync(PartitionOf(keys[0]), keys, cancellationToken).ConfigureAwait(false);
        return [.. keys.Select(k => (rows.TryGetValue(k, out var row) ? row.Row : SpendCounter.Empty(k.Window)).ToTotal(agentId))];
    }

    public async Task<IReadOnlyList<(Guid TenantId, SpendTotal Total)>> GetEndedOpenWindowsAsync(
        DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        var ended = new List<(Guid, SpendTotal)>();
        var filter = TableClient.CreateQueryFilter($"Closed eq {false} and EndAt le {now}");
        await foreach (var row in Table.QueryAsync<TableEntity>(
            filter, maxPerPage: Math.Min(max, 1000), cancellationToken: cancellationToken).ConfigureAwait(false))
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

    protected override string RowKeyOf(SpendKey key) => RowKey(key.AgentId, key.Window.Key);

    protected override TableEntity ToEntity(string partition, string rowKey, SpendKey key, SpendCounter row)
        => ToEntity(partition, rowKey, row.ToTotal(key.AgentId), row.Closed);

    protected override SpendCounter FromEntity(SpendKey key, TableEntity entity)
        => new(
            key.Window,
            entity.GetInt64("NanoUsd") ?? 0,
            entity.GetInt64("Tokens") ?? 0,
            entity.GetInt64("Requests") ?? 0,
            entity.GetBoolean("Closed") ?? false);

    /// <summary><c>_|{window}</c> for the tenant, <c>a-{hex of the agent id}|{window}</c> for an agent (agent ids may
    /// hold characters row keys forbid).</summary>
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
