using System.Globalization;
using LlmTrace.Domain.Budgets;
using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Costs;
using LlmTrace.Domain.Providers;
using LlmTrace.Domain.Tenancy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Limits;

/// <summary>The caller of a proxied call: its tenant's settings, its gateway key (if any) and the credential to send upstream.</summary>
internal sealed record CallIdentity(Tenant Tenant, GatewayKey? Key, UpstreamCredential? Credential);

/// <summary>The provider credential the gateway sends instead of the client's (gateway-keys mode).</summary>
internal sealed record UpstreamCredential(string HeaderName, string Value);

/// <summary>What admission took for one call.</summary>
internal sealed record AdmissionTicket(RateLease Lease, bool BudgetHeld);

/// <summary>
/// What may be spent once the caller is known (<see cref="GatewayAuthenticator"/>): per-request token caps, hard cost
/// caps and rate limits, and settling them when the call ends. Refusals are written in the provider's error shape,
/// before anything reaches the upstream.
/// </summary>
public sealed class GatewayAdmission(
    RateLimiter rateLimiter,
    BudgetGate budgets,
    PricingCatalog catalog,
    TokenEstimator estimator,
    IOptionsMonitor<RateLimitOptions> rateOptions,
    IOptionsMonitor<BudgetOptions> budgetOptions,
    TimeProvider timeProvider,
    ILogger<GatewayAdmission> logger)
{
    /// <summary>Token caps, hard cost caps and rate limits; null when refused (the 400/429 has been written).</summary>
    internal async ValueTask<AdmissionTicket?> AdmitAsync(HttpContext context, CompletedExchange exchange, CallIdentity identity)
    {
        var tenant = identity.Tenant;
        var request = exchange.Request;
        var caps = tenant.TokenCaps;
        var tenantRates = tenant.RateLimits;
        var keyRates = identity.Key?.RateLimits;
        var hardCaps = BudgetGate.HasHardCaps(tenant);
        var needsTokens = caps?.MaxPromptTokens is not null || tenantRates?.TokensPerMinute is not null || keyRates?.TokensPerMinute is not null || hardCaps;
        var promptTokens = needsTokens && request?.Prompt is not null ? estimator.CountPrompt(request.Model, request.Prompt, request.MessageCount) : 0;
        // Each requested choice can use the whole output budget.
        var outputTokens = (long)(request?.MaxOutputTokens ?? rateOptions.CurrentValue.DefaultOutputTokens) * (request?.Choices ?? 1);

        if (caps?.MaxPromptTokens is { } maxPrompt && promptTokens > maxPrompt)
        {
            await AdmissionRefusals.WriteAsync(context, exchange, StatusCodes.Status400BadRequest, "invalid_request_error", "prompt_tokens_cap_exceeded",
                $"The prompt is about {promptTokens} tokens; this tenant's limit is {maxPrompt} tokens per request.", "messages").ConfigureAwait(false);
            return null;
        }

        if (caps?.MaxOutputTokens is { } requiredCap && request is { ParseError: null, MaxOutputTokens: null } && exchange.Method == HttpMethods.Post
            && request.Operation is "chat" or "completions" or "responses" or "messages" or "generate_content")
        {
            // Without max_tokens the provider's default applies, which the cap cannot bound: ask for it.
            await AdmissionRefusals.WriteAsync(context, exchange, StatusCodes.Status400BadRequest, "invalid_request_error", "max_tokens_required",
                $"This tenant caps output at {requiredCap} tokens per request: set max_tokens (or max_completion_tokens / max_output_tokens) to at most {requiredCap}.",
                    "max_tokens").ConfigureAwait(false);
            return null;
        }

        if (caps?.MaxOutputTokens is { } maxOutput && request?.MaxOutputTokens > maxOutput)
        {
            await AdmissionRefusals.WriteAsync(context, exchange, StatusCodes.Status400BadRequest, "invalid_request_error", "max_tokens_cap_exceeded",
                $"max_tokens is {request.MaxOutputTokens}; this tenant allows at most {maxOutput} output tokens per request.",
                    "max_tokens").ConfigureAwait(false);
            return null;
        }

        var held = false;
        if (hardCaps)
        {
            var provider = exchange.Provider.ToWireName();
            if (budgetOptions.CurrentValue.UnpricedModels == UnpricedModelPolicy.Refuse && exchange.Method == HttpMethods.Post
                && (request is not { ParseError: null, Model: { } model } || catalog.FindExact(provider, model) is null))
            {
                // The cap could not count this call's cost: with the strict policy, that is a refusal, not a free pass. Only
                // models the catalog lists count: a prefix guess could price an expensive variant as its cheap base model.
                var reason = request is { ParseError: null, Model: { } named }
                    ? $"the model '{named}' is not listed in the gateway's pricing catalog"
                    : "the gateway cannot read which model this call uses (it needs a JSON body with a model)";
                await AdmissionRefusals.WriteAsync(context, exchange, StatusCodes.Status400BadRequest, "invalid_request_error", "model_not_priced",
                    $"This tenant has a hard cost cap, and {reason}, so its cost cannot be counted. Ask the operator to add the model (LlmTrace__Pricing__CatalogPath).",
                        "model").ConfigureAwait(false);
                return null;
            }

            var estimate = catalog.Price(provider, request?.Model, promptTokens, (int)Math.Min(outputTokens, int.MaxValue), null)?.Total ?? 0m;
            BudgetDecision decision;
            try
            {
                decision = await budgets.CheckAsync(tenant, exchange.AgentId, exchange.TraceId, estimate, context.RequestAborted).ConfigureAwait(false);
            }
            catch (BudgetUnavailableException ex)
            {
                logger.BudgetUnavailable(exchange.TraceId, exchange.TenantId, ex.InnerException?.GetType().Name ?? "unknown");
                if (budgetOptions.CurrentValue.LedgerUnavailable == UnpricedModelPolicy.Refuse)
                {
                    context.Response.Headers.RetryAfter = "5";
                    await AdmissionRefusals.WriteAsync(context, exchange, StatusCodes.Status503ServiceUnavailable, "service_unavailable", "budget_unavailable",
                        "This tenant has a hard cost cap and the gateway cannot read its spend right now, so the call is not forwarded. Try again shortly.").ConfigureAwait(false);
                    return null;
                }

                decision = BudgetDecision.Allow; // the operator chose availability over the cap
            }

            if (!decision.Allowed)
            {
                var window = decision.Window!.Value;
                var retryAfter = window.SecondsUntilEnd(timeProvider.GetUtcNow());
                logger.CostCapExceeded(exchange.TraceId, exchange.TenantId, window.Key);
                context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                var scope = decision.AgentId is null ? "tenant" : $"agent '{decision.AgentId}'";
                await AdmissionRefusals.WriteAsync(context, exchange, StatusCodes.Status429TooManyRequests, "cost_cap_exceeded", "cost_cap_exceeded",
                    string.Create(
                        CultureInfo.InvariantCulture,
                        $"The {scope}'s {WindowNames.Of(window.Kind)} cost cap of {decision.LimitUsd} USD is reached ({decision.SpentUsd:0.######} USD spent). It resets at {window.End:O}.")).ConfigureAwait(false);
                return null;
            }

            held = true;
        }

        // A call refused (or failing) after its cost was held must not keep the hold: released once, here.
        var admitted = false;
        try
        {
            var rules = new List<RateRule>(4);
            var tokenCost = promptTokens + outputTokens;
            AddRules(rules, "t:" + tenant.TenantId.ToString("N"), tenantRates, tokenCost);
            if (identity.Key is { } key)
            {
                AddRules(rules, "k:" + key.KeyId, keyRates, tokenCost);
            }

            if (rules.FirstOrDefault(r => r.Cost > r.Limit) is { Counter: not null } tooLarge)
            {
                // It could never fit in a minute: say so, rather than take the whole minute's allowance and refuse anyway.
                await AdmissionRefusals.WriteAsync(context, exchange, StatusCodes.Status400BadRequest, "invalid_request_error", "request_exceeds_rate_limit",
                    string.Create(
                        CultureInfo.InvariantCulture,
                        $"This call needs about {tooLarge.Cost} tokens, more than the limit of {tooLarge.Limit} tokens per minute. Lower max_tokens or the prompt."), "max_tokens").ConfigureAwait(false);
                return null;
            }

            var rate = await rateLimiter.AcquireAsync(rules, context.RequestAborted).ConfigureAwait(false);
            if (!rate.Allowed)
            {
                var exceeded = rate.Exceeded!.Value;
                logger.RateLimited(exchange.TraceId, exchange.TenantId, exceeded.Counter, exceeded.Dimension.ToString());
                WriteRateHeaders(context.Response.Headers, rate);
                var unit = exceeded.Dimension == RateDimension.Requests ? "requests per minute (RPM)" : "tokens per minute (TPM)";
                await AdmissionRefusals.WriteAsync(context, exchange, StatusCodes.Status429TooManyRequests, "rate_limit_exceeded", "rate_limit_exceeded",
                    string.Create(
                        CultureInfo.InvariantCulture,
                        $"Rate limit reached for {(exceeded.Counter.StartsWith("k:", StringComparison.Ordinal) ? "this key" : "this tenant")} on {unit}: limit {exceeded.Limit}, requested {exceeded.Cost}. Try again in {rate.ResetSeconds}s.")).ConfigureAwait(false);
                return null;
            }

            admitted = true;
            return new AdmissionTicket(rate.Lease, held);
        }
        finally
        {
            if (held && !admitted)
            {
                budgets.Release(exchange.TraceId);
            }
        }
    }

    /// <summary>Settles a finished call: real token usage replaces the estimate, the priced cost replaces the hold.</summary>
    internal void Complete(AdmissionTicket ticket, Trace trace)
    {
        var tokens = trace.TotalTokens ?? (trace.PromptTokens ?? 0) + (trace.CompletionTokens ?? 0);
        rateLimiter.Reconcile(ticket.Lease, tokens);
        if (!ticket.BudgetHeld)
        {
            return;
        }

        var cost = catalog.Price(trace);
        if (cost is null)
        {
            budgets.Release(trace.TraceId);
        }
        else
        {
            budgets.Complete(trace.TraceId, cost.Total);
        }
    }

    /// <summary>A call whose trace could not be built: its budget hold is released so it does not count as spend.</summary>
    internal void Abandon(AdmissionTicket ticket, Guid traceId)
    {
        if (ticket.BudgetHeld)
        {
            budgets.Release(traceId);
        }
    }

    /// <summary>OpenAI's rate-limit headers, for the binding counters of each dimension.</summary>
    public static void WriteRateHeaders(IHeaderDictionary headers, RateDecision decision)
    {
        headers.RetryAfter = decision.ResetSeconds.ToString(CultureInfo.InvariantCulture);
        foreach (var dimension in (ReadOnlySpan<RateDimension>)[RateDimension.Requests, RateDimension.Tokens])
        {
            var relevant = decision.State.Where(s => s.Rule.Dimension == dimension).ToList();
            if (relevant.Count == 0)
            {
                continue;
            }

            // The tightest counter is the one the client must respect.
            var (rule, remaining) = relevant.MinBy(s => s.Remaining);
            var name = dimension == RateDimension.Requests ? "requests" : "tokens";
            headers[$"x-ratelimit-limit-{name}"] = rule.Limit.ToString(CultureInfo.InvariantCulture);
            headers[$"x-ratelimit-remaining-{name}"] = remaining.ToString(CultureInfo.InvariantCulture);
            headers[$"x-ratelimit-reset-{name}"] = decision.ResetSeconds.ToString(CultureInfo.InvariantCulture) + "s";
        }
    }

    private static void AddRules(List<RateRule> rules, string scope, RateLimitSettings? limits, long tokenCost)
    {
        if (limits?.RequestsPerMinute is { } rpm)
        {
            rules.Add(new RateRule(scope + ":r", RateDimension.Requests, rpm, 1));
        }

        if (limits?.TokensPerMinute is { } tpm)
        {
            rules.Add(new RateRule(scope + ":t", RateDimension.Tokens, tpm, tokenCost));
        }
    }
}
