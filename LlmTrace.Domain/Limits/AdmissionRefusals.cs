using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Proxy;
using Microsoft.AspNetCore.Http;

namespace LlmTrace.Domain.Limits;

/// <summary>How authentication and admission refuse a call: recorded on the exchange, written in the provider's error shape.</summary>
internal static class AdmissionRefusals
{
    public static async Task WriteAsync(
        HttpContext context, CompletedExchange exchange, int status, string type, string code, string message, string? param = null)
    {
        exchange.StatusCode = status;
        exchange.Error = code;
        await GatewayErrors.WriteAsync(context, exchange.Provider, status, type, code, message, param).ConfigureAwait(false);
    }
}
