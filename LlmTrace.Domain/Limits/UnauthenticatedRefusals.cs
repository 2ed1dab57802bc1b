using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using LlmTrace.Domain.Tenancy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Limits;

/// <summary>
/// Counts the refusals the gateway records before it knows who is calling (unknown route, missing or bad key, no upstream)
/// per client address. Past <see cref="AuthOptions.RefusalsPerMinute"/> (a bucket refilled evenly over the minute) such a client gets a 429 and no trace,
/// so nobody can flood the trace store, the default tenant's statistics or the logs without a key. Addresses are the
/// socket's peer (an IPv6 client counts by its /64); the table is bounded.
/// </summary>
public sealed class UnauthenticatedRefusals(IOptionsMonitor<AuthOptions> options, TimeProvider timeProvider)
{
    private const int MaxClients = 10_000;
    private readonly ConcurrentDictionary<UInt128, Bucket> _buckets = new();

    /// <summary>True when this refusal may be answered and recorded; false when the client is over its limit.</summary>
    public bool TryAcquire(HttpContext context, out int retryAfterSeconds)
    {
        retryAfterSeconds = 0;
        var limit = options.CurrentValue.RefusalsPerMinute;
        if (limit <= 0)
        {
            return true;
        }

        // A token bucket per client: a burst of up to the limit, refilled evenly over the minute.
        var now = timeProvider.GetTimestamp();
        var perTick = limit / 60.0 / timeProvider.TimestampFrequency;
        // A bucket that has filled up again is the same as a new client's; starting over only forgives.
        var bucket = BoundedMap.GetOrAdd(
            _buckets, ClientKey(context.Connection.RemoteIpAddress), _ => new Bucket(limit, now), MaxClients,
                full => full.Tokens + ((now - full.Stamp) * perTick) >= limit);
        lock (bucket)
        {
            bucket.Tokens = Math.Min(limit, bucket.Tokens + ((now - bucket.Stamp) * perTick));
            bucket.Stamp = now;
            if (bucket.Tokens < 1)
            {
                retryAfterSeconds = Math.Max(1, (int)Math.Ceiling((1 - bucket.Tokens) / perTick / timeProvider.TimestampFrequency));
                return false;
            }

            bucket.Tokens -= 1;
            return true;
        }
    }

    /// <summary>IPv4 (and IPv4-mapped) addresses whole; IPv6 by their /64, which one client can fill at will.</summary>
    internal static UInt128 ClientKey(IPAddress? address)
    {
        if (address is null)
        {
            return UInt128.Zero;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return new UInt128(0, 0x1_0000_0000UL | System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes));
        }

        return written == 16 ? new UInt128(System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes), 0) : UInt128.Zero;
    }

    private sealed class Bucket(double tokens, long stamp)
    {
        public double Tokens { get; set; } = tokens;

        public long Stamp { get; set; } = stamp;
    }
}
