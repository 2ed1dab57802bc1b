namespace LlmTrace.Domain.Budgets;

/// <summary>Spend is summed in whole nano-dollars (1e-9 USD) so that totals are exact in every store.</summary>
public static class SpendMath
{
    public static long ToNanoUsd(decimal usd) => (long)Math.Round(usd * 1_000_000_000m, MidpointRounding.AwayFromZero);

    public static decimal FromNanoUsd(long nano) => nano / 1_000_000_000m;

    /// <summary>The scopes an entry counts in: the tenant (agent null) and, when set, its agent.</summary>
    public static IEnumerable<string?> Scopes(SpendEntry entry) => entry.AgentId is null ? [null] : [null, entry.AgentId];
}
