using System.Collections.Concurrent;
using System.Globalization;
using LlmTrace.Domain.Alerts;
using LlmTrace.Domain.Budgets;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Costs;
using LlmTrace.Domain.Limits;
using LlmTrace.Domain.Tenancy;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Processing;

/// <summary>
/// Prices each call from the catalog (with the model the response names), adds it to the tenant's and the agent's spend
/// windows exactly once, and raises a budget alert when a window's spend crosses a soft threshold.
/// An unknown model leaves the trace unpriced and raises one alert per model.
/// </summary>
public sealed class CostAccountingStage(
    PricingCatalog catalog,
    ISpendLedger ledger,
    IAlertPublisher alerts,
    IOptionsMonitor<BudgetOptions> budgets,
    TenantStore tenants,
    BudgetGate gate,
    Telemetry.GatewayTelemetry telemetry,
    TimeProvider timeProvider,
    ILogger<CostAccountingStage> logger) : ITraceStage
{
    internal const int MaxUnpricedModels = 1_000;

    private readonly ConcurrentDictionary<string, bool> _unpricedAlerted = new(StringComparer.OrdinalIgnoreCase);

    public string Name => "cost";

    public async Task<IReadOnlyList<Trace>> ProcessAsync(IReadOnlyList<Trace> traces, CancellationToken cancellationToken)
    {
        var priced = new Trace[traces.Count];
        var entries = new List<SpendEntry>(traces.Count);
        var billed = new List<Trace>(traces.Count); // the priced trace of each entry, index for index
        for (var i = 0; i < traces.Count; i++)
        {
            var trace = traces[i];
            var hasUsage = trace.PromptTokens is not null || trace.CompletionTokens is not null;
            var cost = catalog.Price(trace);
            priced[i] = trace with { Cost = cost, Priced = hasUsage ? cost is not null : null };
            if (hasUsage && cost is null)
            {
                await AlertUnpricedAsync(trace, cancellationToken).ConfigureAwait(false);
            }

            if (hasUsage)
            {
                entries.Add(new SpendEntry(trace.TraceId, trace.TenantId, trace.AgentId, trace.StartedAt, cost?.Total ?? 0m, trace.TotalTokens ?? 0));
                billed.Add(priced[i]);
            }
        }

        if (entries.Count > 0)
        {
            var applications = await ledger.ApplyAsync(entries, timeProvider, cancellationToken).ConfigureAwait(false);
            // Calls this process admitted stop being counted locally once the ledger has them.
            gate.Applied(entries.Select(e => (e.TraceId, e.TenantId)));
            for (var i = 0; i < entries.Count; i++)
            {
                if (!applications[i].Applied)
                {
                    logger.AlreadyApplied(entries[i].TraceId, "spend ledger");
                    continue;
                }

                telemetry.Priced(billed[i]);
                await CheckThresholdsAsync(entries[i], applications[i], cancellationToken).ConfigureAwait(false);
            }
        }

        return priced;
    }

    private async Task CheckThresholdsAsync(SpendEntry entry, SpendApplication application, CancellationToken cancellationToken)
    {
        var settings = budgets.CurrentValue;
        var tenant = await tenants.GetCachedAsync(entry.TenantId, cancellationToken).ConfigureAwait(false);
        foreach (var (before, after) in application.Changes)
        {
            // The tenant's (or agent's) own soft limit, else the global default for the tenant as a whole.
            var limit = tenant?.BudgetFor(after.AgentId, after.Kind)?.SoftUsd ?? (after.AgentId is null ? settings.LimitFor(after.Kind) : null);
            if (limit is null)
            {
                continue;
            }

            // The highest threshold this call crossed; each is crossed once per window because spend is applied once.
            var crossed = settings.AlertThresholds.Where(
                t => before.CostUsd < limit.Value * (decimal)t && after.CostUsd >= limit.Value * (decimal)t).DefaultIfEmpty().Max();
            if (crossed <= 0)
            {
                continue;
            }

            await alerts.PublishAsync(new Alert
            {
                AlertId = Guid.CreateVersion7(timeProvider.GetUtcNow()),
                Kind = "budget_threshold",
                Severity = crossed >= 1 ? FindingSeverity.High : FindingSeverity.Medium,
                TenantId = entry.TenantId,
                TraceId = entry.TraceId,
                Summary = string.Create(
                    CultureInfo.InvariantCulture,
                    $"{(after.AgentId is null ? "" : $"Agent '{AlertText.Value(after.AgentId)}': ")}{after.Kind} spend {after.CostUsd:0.####} USD reached {crossed:P0} of the {limit:0.##} USD budget"),
                At = timeProvider.GetUtcNow(),
                Details = new Dictionary<string, string>
                {
                    ["window"] = after.WindowKey,
                    ["windowEnd"] = after.End.ToString("O", CultureInfo.InvariantCulture),
                    ["spendUsd"] = after.CostUsd.ToString(CultureInfo.InvariantCulture),
                    ["limitUsd"] = limit.Value.ToString(CultureInfo.InvariantCulture),
                    ["agentId"] = after.AgentId ?? string.Empty,
                    ["threshold"] = crossed.ToString(CultureInfo.InvariantCulture),
                },
            }, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task AlertUnpricedAsync(Trace trace, CancellationToken cancellationToken)
    {
        logger.Unpriced(trace.Model, trace.Provider, trace.TraceId);
        var model = trace.Model ?? "(none)";
        // Model names come from clients: past the limit the set starts over, and the publisher's cooldown still
        // keeps a flood of invented names from becoming a flood of alerts.
        if (_unpricedAlerted.ContainsKey(model))
        {
            return;
        }

        BoundedMap.Trim(_unpricedAlerted, MaxUnpricedModels, _ => false);
        if (!_unpricedAlerted.TryAdd(model, true))
        {
            return;
        }

        await alerts.PublishAsync(new Alert
        {
            AlertId = Guid.CreateVersion7(timeProvider.GetUtcNow()),
            Kind = "unpriced_model",
            Severity = FindingSeverity.Low,
            TraceId = trace.TraceId,
            Summary = $"No price for model '{AlertText.Value(model)}' ({trace.Provider}); its calls are counted in tokens, not dollars. Add it with LlmTrace__Pricing__CatalogPath.",
            At = timeProvider.GetUtcNow(),
            Details = new Dictionary<string, string> { ["model"] = model, ["provider"] = trace.Provider },
        }, cancellationToken).ConfigureAwait(false);
    }
}
