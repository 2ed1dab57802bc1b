using System.Text.Json;
using Azure.Messaging.ServiceBus;
using LlmTrace.Domain.Capture;
using LlmTrace.Tests.Infrastructure;
using LlmTrace.Domain.Processing;
using LlmTrace.Functions.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;

namespace LlmTrace.Tests.Azure;

/// <summary>
/// The Service Bus sender, with the SDK client mocked (no Service Bus emulator runs here): what it sends where, claim
/// checks over the Service Bus limit, and parking when sending fails.
/// </summary>
public sealed class ServiceBusCaptureTransportTests
{
    private readonly Mock<ServiceBusClient> _client = new();
    private readonly Mock<ServiceBusSender> _captures = new();
    private readonly Mock<ServiceBusSender> _anomaly = new();
    private readonly Mock<IParkedCaptureStore> _parked = new();
    private readonly InMemoryClaimChecks _claimChecks = new();
    private readonly CaptureOutbox _outbox = new(Microsoft.Extensions.Options.Options.Create(new CaptureOptions()), TimeProvider.System, NullLogger<CaptureOutbox>.Instance);

    public ServiceBusCaptureTransportTests()
    {
        _client.Setup(c => c.CreateSender(QueueNames.Captures)).Returns(_captures.Object);
        _client.Setup(c => c.CreateSender(QueueNames.Anomaly)).Returns(_anomaly.Object);
    }

    [Fact]
    public async Task Enqueue_SmallTrace_SendsItInlineToTheCapturesQueueWithADedupId()
    {
        var trace = NewTrace(prompt: "hi");
        ServiceBusMessage? sent = null;
        _captures.Setup(s => s.SendMessageAsync(It.IsAny<ServiceBusMessage>(), It.IsAny<CancellationToken>()))
            .Callback<ServiceBusMessage, CancellationToken>((m, _) => sent = m).Returns(Task.CompletedTask);

        await Transport().EnqueueAsync(trace, CancellationToken.None);

        Assert.NotNull(sent);
        Assert.Equal($"{trace.TraceId:N}-captured", sent.MessageId);
        var (decoded, claimCheck) = await Codec().DecodeAsync(sent.Body.ToString(), CancellationToken.None);
        Assert.Null(claimCheck);
        Assert.Equal(trace.Prompt, decoded.Prompt);
        _parked.VerifyNoOtherCalls();
    }

    [Fact]
    public async Task Enqueue_TraceOver240KiB_TravelsAsAClaimCheck()
    {
        var trace = NewTrace(prompt: new string('p', 300 * 1024));
        ServiceBusMessage? sent = null;
        _captures.Setup(s => s.SendMessageAsync(It.IsAny<ServiceBusMessage>(), It.IsAny<CancellationToken>()))
            .Callback<ServiceBusMessage, CancellationToken>((m, _) => sent = m).Returns(Task.CompletedTask);

        await Transport().EnqueueAsync(trace, CancellationToken.None);

        Assert.True(sent!.Body.ToMemory().Length < 1024);
        Assert.Equal(trace.Prompt, (await Codec().DecodeAsync(sent.Body.ToString(), CancellationToken.None)).Trace.Prompt);
    }

    [Fact]
    public async Task Enqueue_ServiceBusFails_ParksTheTrace()
    {
        var trace = NewTrace(prompt: "hi");
        _captures.Setup(s => s.SendMessageAsync(It.IsAny<ServiceBusMessage>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new ServiceBusException("down", ServiceBusFailureReason.ServiceCommunicationProblem));

        await Transport().EnqueueAsync(trace, CancellationToken.None);

        _parked.Verify(p => p.ParkAsync(trace, It.IsAny<CancellationToken>()), Times.Once);
        Assert.Equal(0, _outbox.Count);
    }

    [Fact]
    public async Task Enqueue_ServiceBusAndTheParkBothFail_HoldsTheTraceAndDeliversItWhenServiceBusAnswersAgain()
    {
        var trace = NewTrace(prompt: "hi");
        var down = true;
        var sent = 0;
        _captures.Setup(s => s.SendMessageAsync(It.IsAny<ServiceBusMessage>(), It.IsAny<CancellationToken>()))
            .Returns(() => down ? throw new ServiceBusException("down", ServiceBusFailureReason.ServiceCommunicationProblem) : Task.FromResult(++sent));
        _parked.Setup(p => p.ParkAsync(It.IsAny<Trace>(), It.IsAny<CancellationToken>())).ThrowsAsync(new global::Azure.RequestFailedException("storage down"));
        var transport = Transport();

        await transport.EnqueueAsync(trace, CancellationToken.None);
        var heldWhileDown = _outbox.Count;
        var deliveredWhileDown = await _outbox.FlushAsync(CancellationToken.None);
        down = false;
        var deliveredAfter = await _outbox.FlushAsync(CancellationToken.None);

        Assert.Equal((1, 0, 1, 0, 1), (heldWhileDown, deliveredWhileDown, deliveredAfter, _outbox.Count, sent));
        _parked.Verify(p => p.ParkAsync(trace, It.IsAny<CancellationToken>()), Times.Exactly(2));
    }

    [Fact]
    public async Task SendAsync_Stage_GoesToThatStagesQueue()
    {
        var message = JsonSerializer.Serialize(new { traceId = Guid.NewGuid() });

        await Transport().SendAsync("anomaly", message, CancellationToken.None);

        _anomaly.Verify(s => s.SendMessageAsync(It.Is<ServiceBusMessage>(m => m.Body.ToString() == message && m.Subject == "anomaly"), It.IsAny<CancellationToken>()), Times.Once);
        _captures.VerifyNoOtherCalls();
    }

    private CaptureMessageCodec Codec() => new(_claimChecks, ServiceBusCaptureTransport.InlineLimit);

    private ServiceBusCaptureTransport Transport() => new(_client.Object, Codec(), Delivery());

    private CaptureDelivery Delivery() => new(_parked.Object, _outbox, NullLogger<CaptureDelivery>.Instance);

    private static Trace NewTrace(string prompt) => TestTraces.New(prompt);

    private sealed class InMemoryClaimChecks : IClaimCheckStore
    {
        private readonly Dictionary<string, byte[]> _items = [];

        public Task<string> PutAsync(string name, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
        {
            _items[name] = payload.ToArray();
            return Task.FromResult(name);
        }

        public Task<byte[]> GetAsync(string reference, CancellationToken cancellationToken) => Task.FromResult(_items[reference]);

        public Task DeleteAsync(string reference, CancellationToken cancellationToken)
        {
            _items.Remove(reference);
            return Task.CompletedTask;
        }
    }
}
