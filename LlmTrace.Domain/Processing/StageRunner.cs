using LlmTrace.Domain.Capture;

namespace LlmTrace.Domain.Processing;

/// <summary>
/// Runs one processing stage on one queue message (the Azure host's queue-triggered functions are one call to this):
/// decode, process, then forward to the next stage's queue, or, after the last stage, store the trace. Redelivery is
/// safe because every stage is idempotent and the store upserts by trace id.
/// </summary>
public sealed class StageRunner(TracePipeline pipeline, CaptureMessageCodec codec, IStageQueue queues, IClaimCheckStore claimChecks)
{
    public async Task RunAsync(string stage, string message, CancellationToken cancellationToken)
    {
        var (trace, claimCheck) = await codec.DecodeAsync(message, cancellationToken).ConfigureAwait(false);
        var stages = pipeline.Stages;
        var index = stages.Select((s, i) => (s, i)).Single(x => x.s.Name == stage).i;
        var processed = (await stages[index].ProcessAsync([trace], cancellationToken).ConfigureAwait(false))[0];

        if (index + 1 < stages.Count)
        {
            var next = await codec.EncodeAsync(processed, cancellationToken).ConfigureAwait(false);
            await queues.SendAsync(stages[index + 1].Name, next, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await pipeline.StoreAsync([processed], cancellationToken).ConfigureAwait(false);
            if (claimCheck is not null)
            {
                // The trace is stored; its claim check is no longer needed.
                await claimChecks.DeleteAsync(claimCheck, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
