using System.Runtime.InteropServices;

namespace LlmTrace.Domain.Capture;

/// <summary>How the capture consumer's batches share the CPU with request handling.</summary>
public enum ProcessingPriority
{
    /// <summary>Batches run on the thread pool, at the same priority as request handling.</summary>
    Normal,

    /// <summary>
    /// While processing keeps up, batches of at most 32 traces run on one dedicated thread below normal priority (nice 10 on Linux, below
    /// normal on Windows): when the cores are busy, the operating system runs request handling first, and processing
    /// takes the time left over. Once a full batch more is waiting, batches run at normal priority until the backlog is
    /// worked off, so callers never wait for room in the queue because processing was held back.
    /// </summary>
    Background,
}

/// <summary>
/// One dedicated thread that runs tasks below normal priority. The capture consumer starts each batch on it, so the
/// processing of a batch (pricing, ledger, anomaly and security analysis, store writes) yields the CPU to the request
/// path instead of competing with it. An await that really waits (network I/O, a retry's pause) continues on the
/// thread pool, as <c>ConfigureAwait(false)</c> asks; the store writes of the single-process host complete
/// synchronously and stay here. Back-pressure still holds: the capture queue is bounded, so under sustained overload
/// producers wait for processing instead of processing falling ever further behind.
/// </summary>
internal sealed class BackgroundScheduler : TaskScheduler, IDisposable
{
    /// <summary>The Linux nice value of the thread: a tenth of a normal thread's share of a busy core.</summary>
    internal const int Nice = 10;

    private const int PrioProcess = 0;

    private readonly Queue<Task> _tasks = new();
    private readonly SemaphoreSlim _ready = new(0);
    private readonly Lock _gate = new();
    private readonly Thread _thread;
    private readonly TaskCompletionSource<bool> _lowered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _disposed;

    public BackgroundScheduler(string name)
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Whether the operating system lowered the thread's priority (false where it cannot, e.g. macOS).</summary>
    public Task<bool> Lowered => _lowered.Task;

    public override int MaximumConcurrencyLevel => 1;

    /// <summary>Starts <paramref name="work"/> on the background thread; it completes when the work does.</summary>
    public Task Run(Func<Task> work)
        => Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.DenyChildAttach, this).Unwrap();

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _ready.Release();
    }

    protected override void QueueTask(Task task)
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                _tasks.Enqueue(task);
                _ready.Release();
                return;
            }
        }

        // After disposal (a shutdown that gave up draining), work still runs, on the thread pool.
        ThreadPool.UnsafeQueueUserWorkItem(static state => state.Scheduler.TryExecuteTask(state.Task), (Scheduler: this, Task: task), preferLocal: false);
    }

    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued)
        => Thread.CurrentThread == _thread && TryExecuteTask(task);

    protected override IEnumerable<Task> GetScheduledTasks()
    {
        lock (_gate)
        {
            return [.. _tasks];
        }
    }

    private void Loop()
    {
        _lowered.TrySetResult(TryLowerPriority());
        while (true)
        {
            _ready.Wait();
            Task? task;
            lock (_gate)
            {
                // Every task is queued (and released) before Dispose's release, so an empty queue means disposed.
                if (!_tasks.TryDequeue(out task))
                {
                    break;
                }
            }

            TryExecuteTask(task);
        }

        _ready.Dispose();
    }

    private static bool TryLowerPriority()
    {
        try
        {
            if (OperatingSystem.IsLinux())
            {
                // On Linux the nice value belongs to the thread, and "who = 0" is the calling thread.
                return SetPriority(PrioProcess, 0, Nice) == 0;
            }

            if (OperatingSystem.IsWindows())
            {
                Thread.CurrentThread.Priority = ThreadPriority.BelowNormal;
                return true;
            }
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or PlatformNotSupportedException)
        {
        }

        // Elsewhere (macOS) "who = 0" would renice the whole process: leave the thread at normal priority.
        return false;
    }

    [DllImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static extern int SetPriority(int which, uint who, int priority);
}
