using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Tenancy;
using Microsoft.Azure.Cosmos;
using Microsoft.Extensions.Options;

namespace LlmTrace.Functions.Infrastructure;

/// <summary>
/// Traces in Cosmos DB: container <c>traces</c>, partition key <c>/tenantId</c>, id = trace id, per-tenant retention
/// through the item <c>ttl</c>. Each item is the trace JSON plus <c>id</c>, <c>ttl</c>, <c>startedAtMs</c> (for range
/// filters) and <c>sortKey</c> (startedAt, then trace id: one property, so newest-first keyset paging needs no
/// composite index and no OFFSET). Writes are upserts, so a redelivered trace replaces itself.
/// </summary>
/// <remarks>Retention: the tenant's <c>retentionDays</c> setting, else <c>TenantRetentionDays</c>, else <c>RetentionDays</c>.</remarks>
public sealed class CosmosTraceStore(Container container, IOptions<CosmosOptions> options, TenantStore? tenants = null) : ITraceStore
{
    public async Task UpsertAsync(IReadOnlyList<Trace> traces, CancellationToken cancellationToken)
    {
        await Parallel.ForEachAsync(traces, new ParallelOptions { MaxDegreeOfParallelism = options.Value.WriteConcurrency, CancellationToken = cancellationToken }, async (trace, ct) =>
        {
            var tenantDays = tenants is null ? null : (await tenants.GetCachedAsync(trace.TenantId, ct).ConfigureAwait(false))?.RetentionDays;
            using var stream = new MemoryStream(ToDocument(trace, tenantDays));
            using var response = await container.UpsertItemStreamAsync(
                stream, new PartitionKey(trace.TenantId.ToString()), cancellationToken: ct).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
        }).ConfigureAwait(false);
    }

    public async Task<Trace?> GetAsync(Guid traceId, CancellationToken cancellationToken)
    {
        // The id alone does not name the partition: a query on the indexed id finds it in any tenant.
        var query = new QueryDefinition("SELECT * FROM c WHERE c.id = @id").WithParameter("@id", traceId.ToString());
        var page = await ReadAllAsync(query, null, 1, cancellationToken).ConfigureAwait(false);
        return page.FirstOrDefault();
    }

    public async Task<TracePage> QueryAsync(TraceQuery query, CancellationToken cancellationToken)
    {
        var sql = new StringBuilder("SELECT TOP @take * FROM c WHERE IS_DEFINED(c.sortKey)");
        var definition = new List<(string, object)> { ("@take", query.Limit + 1) };
        if (query.TenantId is { } tenantId)
        {
            // Also scoped by the partition key in the request options; the filter keeps the query correct on its own.
            sql.Append(" AND c.tenantId = @tenant");
            definition.Add(("@tenant", tenantId.ToString()));
        }

        if (query.AgentId is not null)
        {
            sql.Append(" AND c.agentId = @agent");
            definition.Add(("@agent", query.AgentId));
        }

        if (query.Model is not null)
        {
            sql.Append(" AND LOWER(c.model) = @model");
            definition.Add(("@model", query.Model.ToLowerInvariant()));
        }

        if (query.Provider is not null)
        {
            sql.Append(" AND c.provider = @provider");
            definition.Add(("@provider", query.Provider));
        }

        if (query.Succeeded is { } ok)
        {
            sql.Append(ok ? " AND c.statusCode >= 200 AND c.statusCode < 400" : " AND (c.statusCode < 200 OR c.statusCode >= 400)");
        }

        if (query.HasFindings is { } hasFindings)
        {
            sql.Append(hasFindings ? " AND ARRAY_LENGTH(c.findings) > 0" : " AND ARRAY_LENGTH(c.findings) = 0");
        }

        if (query.Since is { } since)
        {
            sql.Append(" AND c.startedAtMs >= @since");
            definition.Add(("@since", since.ToUnixTimeMilliseconds()));
        }

        if (query.Until is { } until)
        {
            sql.Append(" AND c.startedAtMs < @until");
            definition.Add(("@until", until.ToUnixTimeMilliseconds()));
        }

        if (query.After is { } after)
        {
            sql.Append(" AND c.sortKey < @after");
            definition.Add(("@after", SortKey(after.StartedAt, after.TraceId)));
        }

        sql.Append(" ORDER BY c.sortKey DESC");
        var queryDefinition = new QueryDefinition(sql.ToString());
        foreach (var (name, value) in definition)
        {
            queryDefinition = queryDefinition.WithParameter(name, value);
        }

        var items = await ReadAllAsync(queryDefinition, query.TenantId, query.Limit + 1, cancellationToken).ConfigureAwait(false);
        var more = items.Count > query.Limit;
        var page = more ? items.Take(query.Limit).ToList() : items;
        var token = more ? new TraceCursor(page[^1].StartedAt, page[^1].TraceId).Encode() : null;
        return new TracePage(page, token);
    }

    public async Task PingAsync(CancellationToken cancellationToken)
    {
        using var response = await container.ReadContainerStreamAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>The stored item: the trace's own JSON with the store's properties appended.</summary>
    internal byte[] ToDocument(Trace trace, int? tenantSettingDays = null)
    {
        var settings = options.Value;
        var days = tenantSettingDays ?? (settings.TenantRetentionDays.TryGetValue(trace.TenantId, out var configuredDays) ? configuredDays : settings.RetentionDays);
        var json = JsonSerializer.SerializeToUtf8Bytes(trace, CaptureJsonContext.Default.Trace);
        var extra = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $",\"id\":\"{trace.TraceId}\",\"ttl\":{days * 86_400},\"startedAtMs\":{trace.StartedAt.ToUnixTimeMilliseconds()},\"sortKey\":\"{SortKey(trace.StartedAt, trace.TraceId)}\"}}"));
        var document = new byte[json.Length - 1 + extra.Length];
        json.AsSpan(0, json.Length - 1).CopyTo(document);
        extra.CopyTo(document.AsSpan(json.Length - 1));
        return document;
    }

    /// <summary>Fixed-width milliseconds then the trace id, so string order is time order with the id as tie-break.</summary>
    internal static string SortKey(DateTimeOffset startedAt, Guid traceId)
        => string.Create(CultureInfo.InvariantCulture, $"{startedAt.ToUnixTimeMilliseconds():D15}_{traceId:N}");

    private async Task<List<Trace>> ReadAllAsync(QueryDefinition query, Guid? tenantId, int max, CancellationToken cancellationToken)
    {
        var requestOptions = new QueryRequestOptions { MaxItemCount = Math.Min(max, 1000) };
        if (tenantId is { } tenant)
        {
            requestOptions.PartitionKey = new PartitionKey(tenant.ToString());
        }

        var items = new List<Trace>();
        using var iterator = container.GetItemQueryStreamIterator(query, requestOptions: requestOptions);
        while (iterator.HasMoreResults && items.Count < max)
        {
            using var response = await iterator.ReadNextAsync(cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                break;
            }

            response.EnsureSuccessStatusCode();
            using var document = await JsonDocument.ParseAsync(response.Content, cancellationToken: cancellationToken).ConfigureAwait(false);
            foreach (var element in document.RootElement.GetProperty("Documents").EnumerateArray())
            {
                items.Add(element.Deserialize(CaptureJsonContext.Default.Trace)!);
            }
        }

        return items;
    }
}
