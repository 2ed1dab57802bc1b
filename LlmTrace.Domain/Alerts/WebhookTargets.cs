using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Alerts;

/// <summary>
/// Where alert webhooks may connect. A tenant's webhook URL is checked when it is saved, but a public host name can
/// later resolve to an internal address (DNS rebinding): so the tenant client checks every address again when it
/// connects, and never connects to this machine, a private network, link-local addresses (the cloud metadata endpoint
/// 169.254.169.254 among them) or multicast, unless <see cref="AlertOptions.AllowPrivateTenantWebhooks"/> is set. The
/// operator's own webhook (<see cref="AlertOptions.WebhookUrl"/>) may be internal and uses the plain client.
/// </summary>
internal static class WebhookTargets
{
    public const string TenantHttpClientName = "LlmTrace.Alerts.Tenant";

    /// <summary>Registers the operator's and the tenants' webhook clients. Neither follows redirects or keeps cookies.</summary>
    public static IServiceCollection AddWebhookClients(this IServiceCollection services)
    {
        services.AddHttpClient(WebhookAlertPublisher.HttpClientName)
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan)
            // A webhook must not redirect the gateway somewhere else (for example into its own network).
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
            .RemoveAllLoggers();
        services.AddHttpClient(TenantHttpClientName)
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(provider =>
            {
                var options = provider.GetRequiredService<IOptionsMonitor<AlertOptions>>();
                return new SocketsHttpHandler
                {
                    AllowAutoRedirect = false,
                    UseCookies = false,
                    UseProxy = false, // the check is on the address actually connected to, which a proxy would hide
                    ConnectCallback = (context, cancellationToken)
                        => ConnectAsync(context.DnsEndPoint, options.CurrentValue.AllowPrivateTenantWebhooks, cancellationToken),
                };
            })
            .RemoveAllLoggers();
        return services;
    }

    /// <summary>Resolves the host and connects to its first permitted address; none permitted is a failed request.</summary>
    public static async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, bool allowInternal, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(endpoint.Host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken).ConfigureAwait(false);
        var permitted = allowInternal ? addresses : [.. addresses.Where(a => !IsInternal(a))];
        if (permitted.Length == 0)
        {
            throw new HttpRequestException(
                HttpRequestError.ConnectionError,
                $"The webhook host {endpoint.Host} resolves only to internal addresses; tenant webhooks must reach a public host.");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(permitted, endpoint.Port, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>This machine, a private or shared network, link-local, multicast, or unspecified.</summary>
    public static bool IsInternal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.Broadcast))
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            if (address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal || address.IsIPv6Multicast || (bytes[0] & 0xFE) == 0xFC)
            {
                return true;
            }

            // Forms that carry an IPv4 address, which a gateway or the host may translate: IPv4-compatible (::a.b.c.d),
            // NAT64 (64:ff9b::/96) and 6to4 (2002::/16). The IPv4 address inside must be public too.
            if (bytes.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0
                || (bytes[0] == 0x00 && bytes[1] == 0x64 && bytes[2] == 0xFF && bytes[3] == 0x9B && bytes.AsSpan(4, 8).IndexOfAnyExcept((byte)0) < 0))
            {
                return IsInternalIPv4(bytes.AsSpan(12, 4));
            }

            return bytes[0] == 0x20 && bytes[1] == 0x02 && IsInternalIPv4(bytes.AsSpan(2, 4));
        }

        return IsInternalIPv4(address.GetAddressBytes());
    }

    private static bool IsInternalIPv4(ReadOnlySpan<byte> b)
        => b[0] is 0 or 10 or 127 or >= 224
            || (b[0] == 172 && b[1] is >= 16 and <= 31)
            || (b[0] == 192 && b[1] == 168)
            || (b[0] == 192 && b[1] == 0 && b[2] is 0 or 2)
            || (b[0] == 198 && b[1] is 18 or 19)
            || (b[0] == 169 && b[1] == 254)
            || (b[0] == 100 && b[1] is >= 64 and <= 127);
}
