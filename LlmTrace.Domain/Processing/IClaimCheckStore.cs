namespace LlmTrace.Domain.Processing;

/// <summary>Holds payloads too large for a queue message; the message carries the reference instead.</summary>
public interface IClaimCheckStore
{
    /// <summary>Stores the payload and returns the reference to put in the message.</summary>
    Task<string> PutAsync(string name, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken);

    Task<byte[]> GetAsync(string reference, CancellationToken cancellationToken);

    Task DeleteAsync(string reference, CancellationToken cancellationToken);
}
