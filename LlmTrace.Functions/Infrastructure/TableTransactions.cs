using Azure.Data.Tables;

namespace LlmTrace.Functions.Infrastructure;

/// <summary>
/// Optimistic concurrency on Table Storage, written once: an attempt reads its rows, folds, and submits one
/// entity-group transaction with ETag conditions and an applied marker. When another writer got there first (409: the
/// marker or a new row exists; 412: a counter changed), the attempt runs again after a short random pause.
/// </summary>
internal static class TableTransactions
{
    public const int MaxAttempts = 20;

    public static async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> attempt, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        for (var number = 1; ; number++)
        {
            try
            {
                return await attempt(cancellationToken).ConfigureAwait(false);
            }
            catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412 && number < MaxAttempts)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 20 * number)), timeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
