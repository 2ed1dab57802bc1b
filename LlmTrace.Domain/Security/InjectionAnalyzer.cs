using LlmTrace.Domain.Capture;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Security;

/// <summary>The fast injection and jailbreak rules over the request's user-controlled text.</summary>
public sealed class InjectionAnalyzer(PromptInjectionDetector detector, IOptionsMonitor<SecurityOptions> options) : ISecurityAnalyzer
{
    public string Name => PromptInjectionDetector.DetectorName;

    public IEnumerable<Finding> Analyze(Trace trace)
        => detector.Analyze(PromptParts.WithoutSystem(trace.Prompt), "request", options.CurrentValue.InjectionThreshold);
}

/// <summary>Splits the role-prefixed prompt text the capture builds (<c>role: text</c> blocks).</summary>
public static class PromptParts
{
    private static readonly string[] Roles = ["system", "user", "assistant", "tool", "developer", "function", "model", "prompt", "input"];

    /// <summary>The system (and developer) messages' text.</summary>
    public static string? System(string? prompt) => Join(prompt, role => role is "system" or "developer");

    /// <summary>Everything but the system messages: what a user, a tool or a document put into the conversation.</summary>
    public static string? WithoutSystem(string? prompt) => Join(prompt, role => role is not ("system" or "developer"));

    private static string? Join(string? prompt, Func<string, bool> keep)
    {
        if (string.IsNullOrEmpty(prompt))
        {
            return prompt;
        }

        var parts = new List<string>();
        string? role = null;
        var current = new System.Text.StringBuilder();
        foreach (var line in prompt.Split('\n'))
        {
            var colon = line.IndexOf(": ", StringComparison.Ordinal);
            var candidate = colon > 0 ? line[..colon] : null;
            if (candidate is not null && Roles.Contains(candidate))
            {
                Flush();
                role = candidate;
                current.Append(line[(colon + 2)..]);
                continue;
            }

            if (current.Length > 0)
            {
                current.Append('\n');
            }

            current.Append(line);
        }

        Flush();
        return parts.Count == 0 ? null : string.Join("\n", parts);

        void Flush()
        {
            if (role is not null && keep(role) && current.Length > 0)
            {
                parts.Add(current.ToString());
            }

            current.Clear();
        }
    }
}
