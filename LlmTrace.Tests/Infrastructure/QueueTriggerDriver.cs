using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using LlmTrace.Domain.Processing;

namespace LlmTrace.Tests.Infrastructure;

/// <summary>
/// What the Functions runtime's Storage Queues trigger does, for tests that cannot run the runtime: receive a batch,
/// call the function for each message in parallel, delete on success; on failure make the message visible again after
/// a pause, and once it has been dequeued <see cref="MaxDequeueCount"/> times move it to <c>{queue}-poison</c>. Storage
/// errors while polling are waited out, as the runtime's listener does.
/// </summary>
public sealed class QueueTriggerDriver : IAsyncDisposable
{
    public const int MaxDequeueCount = 5; // host.json: extensions.queues.maxDequeueCount

    private readonly QueueServiceClient _queues;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _listeners = [];
    private int _failures;
    private int _poisoned;

    public QueueTriggerDriver(QueueServiceClient queues) => _queues = queues;

    public delegate Task Function(QueueMessage message, CancellationToken cancellationToken);

    /// <summary>Pause before a failed message is visible again (host.json says 10 s; a test shortens it).</summary>
    public TimeSpan FailureVisibility { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a received message stays invisible while its function runs.</summary>
    public TimeSpan ReceiveVisibility { get; init; } = TimeSpan.FromSeconds(8);

    public int Failures => Volatile.Read(ref _failures);

    public int Poisoned => Volatile.Read(ref _poisoned);

    /// <summary>Pollers per queue: the runtime fetches a new batch of 16 when 8 remain, so up to 24 messages run at once.</summary>
    public int PollersPerQueue { get; init; } = 2;

    public void Listen(string queue, Function function)
    {
        for (var i = 0; i < PollersPerQueue; i++)
        {
            _listeners.Add(Task.Run(() => ListenAsync(queue, function)));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_listeners);
        _stop.Dispose();
    }

    private async Task ListenAsync(string queue, Function function)
    {
        var client = _queues.GetQueueClient(queue);
        var poison = _queues.GetQueueClient(queue + QueueNames.PoisonSuffix);
        while (!_stop.IsCancellationRequested)
        {
            QueueMessage[] batch;
            try
            {
                batch = (await client.ReceiveMessagesAsync(16, ReceiveVisibility, _stop.Token)).Value;
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is global::Azure.RequestFailedException or HttpRequestException or AggregateException or IOException or TaskCanceledException)
            {
                await PauseAsync(TimeSpan.FromMilliseconds(250));
                continue;
            }

            if (batch.Length == 0)
            {
                await PauseAsync(TimeSpan.FromMilliseconds(50));
                continue;
            }

            await Task.WhenAll(batch.Select(message => RunAsync(client, poison, message, function)));
        }
    }

    private async Task RunAsync(QueueClient client, QueueClient poison, QueueMessage message, Function function)
    {
        try
        {
            await function(message, CancellationToken.None);
            await client.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None);
            return;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Interlocked.Increment(ref _failures);
        }

        try
        {
            if (message.DequeueCount >= MaxDequeueCount)
            {
                await poison.SendMessageAsync(message.Body, cancellationToken: CancellationToken.None);
                await client.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None);
                Interlocked.Increment(ref _poisoned);
            }
            else
            {
                await client.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: FailureVisibility, cancellationToken: CancellationToken.None);
            }
        }
        catch (Exception ex) when (ex is global::Azure.RequestFailedException or HttpRequestException or AggregateException or IOException)
        {
            // Storage is down: the message becomes visible again when its receive visibility ends.
        }
    }

    private async Task PauseAsync(TimeSpan pause)
    {
        try
        {
            await Task.Delay(pause, _stop.Token);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }
}
