using LlmTrace.Functions;
using LlmTrace.Tests.Infrastructure;

namespace LlmTrace.Tests.Functions;

/// <summary>The capture transport is one choice, checked at start-up: never a silent fallback to another queue.</summary>
public sealed class CaptureTransportTests
{
    [Theory]
    [InlineData(null, CaptureTransport.StorageQueue)]
    [InlineData("", CaptureTransport.StorageQueue)]
    [InlineData("storagequeue", CaptureTransport.StorageQueue)]
    [InlineData(" InProcess ", CaptureTransport.InProcess)]
    public void Resolve_NamesTheTransportTheBuildServes(string? setting, CaptureTransport expected)
        => Assert.Equal(expected, CaptureTransports.Resolve(setting));

    [Theory]
    [InlineData("StorageQueues", "use StorageQueue, ServiceBus or InProcess")]
    [InlineData("EventHubs", "use StorageQueue, ServiceBus or InProcess")]
    [InlineData("7", "use StorageQueue, ServiceBus or InProcess")]
    [InlineData("ServiceBus", "Build with -p:CaptureTransport=ServiceBus")]
    public void Resolve_AValueTheBuildCannotServe_StopsTheHostWithTheFix(string setting, string fix)
    {
        var error = Assert.Throws<InvalidOperationException>(() => CaptureTransports.Resolve(setting));
        Assert.Contains(fix, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Host_WithAMistypedTransport_DoesNotStart()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => FunctionsTestHost.StartAsync(upstream, new Dictionary<string, string?> { [FunctionsGatewayExtensions.TransportSetting] = "Servicebus2" }));
        Assert.Contains("Servicebus2", error.Message, StringComparison.Ordinal);
    }
}
