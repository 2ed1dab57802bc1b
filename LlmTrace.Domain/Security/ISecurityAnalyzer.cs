using LlmTrace.Domain.Capture;

namespace LlmTrace.Domain.Security;

/// <summary>One detector over a finished trace (prompt, response, tool calls). Pure and thread-safe.</summary>
public interface ISecurityAnalyzer
{
    string Name { get; }

    IEnumerable<Finding> Analyze(Trace trace);
}
