using LlmTrace.Domain.Capture;

namespace LlmTrace.Domain.Processing;

/// <summary>Takes captured traces to their final, stored form. The in-process queue's consumer calls it.</summary>
internal interface ITraceProcessor
{
    Task ProcessAsync(IReadOnlyList<Trace> traces, CancellationToken cancellationToken);
}
