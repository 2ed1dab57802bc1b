namespace LlmTrace.Functions;

/// <summary>
/// Which queues carry captures between the HTTP function and the processing stages (<c>LlmTrace__Capture__Transport</c>).
/// The queue triggers are chosen when the app is built (<c>-p:CaptureTransport=ServiceBus</c>), because each needs its
/// Functions extension; the setting must name the transport the build has, and is checked at start-up.
/// </summary>
public enum CaptureTransport
{
    /// <summary>Azure Storage Queues, the default build.</summary>
    StorageQueue,

    /// <summary>Azure Service Bus: needs the Service Bus build.</summary>
    ServiceBus,

    /// <summary>Everything in one process, in memory: a quick local look, nothing durable.</summary>
    InProcess,
}

public static class CaptureTransports
{
    /// <summary>The transport whose queue triggers this build contains.</summary>
    public const CaptureTransport Built =
#if CAPTURE_SERVICEBUS
        CaptureTransport.ServiceBus;
#else
        CaptureTransport.StorageQueue;
#endif

    /// <summary>Reads the setting (any case; empty means the build's transport) and refuses a value the build cannot serve.</summary>
    public static CaptureTransport Resolve(string? setting)
    {
        if (string.IsNullOrWhiteSpace(setting))
        {
            return Built;
        }

        if (!Enum.TryParse<CaptureTransport>(setting.Trim(), ignoreCase: true, out var transport) || !Enum.IsDefined(transport))
        {
            throw new InvalidOperationException(
                $"LlmTrace:Capture:Transport is '{setting}'; use {CaptureTransport.StorageQueue}, {CaptureTransport.ServiceBus} or {CaptureTransport.InProcess}.");
        }

        if (transport != CaptureTransport.InProcess && transport != Built)
        {
            throw new InvalidOperationException(
                $"LlmTrace:Capture:Transport is {transport}, but this build's queue triggers are for {Built}. "
                + $"Build with -p:CaptureTransport={transport}, or set the transport to {Built}.");
        }

        return transport;
    }
}
