namespace LlmTrace.Domain.Budgets;

/// <summary>One window's running counters, as the in-process ledgers keep them; nano-dollars keep sums exact.</summary>
public sealed record SpendCounter(BudgetWindow Window, long NanoUsd, long Tokens, long Requests, bool Closed)
{
    public static SpendCounter Empty(BudgetWindow window) => new(window, 0, 0, 0, false);

    /// <summary>The counters after one call's spend.</summary>
    public SpendCounter Add(SpendEntry entry)
        => this with { NanoUsd = NanoUsd + SpendMath.ToNanoUsd(entry.CostUsd), Tokens = Tokens + entry.Tokens, Requests = Requests + 1 };

    public SpendTotal ToTotal(string? agent)
        => new(Window.Kind, Window.Key, Window.Start, Window.End, agent, SpendMath.FromNanoUsd(NanoUsd), Tokens, Requests);
}
