using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using LlmTrace.Domain.Processing;
using LlmTrace.Domain.Providers;
using LlmTrace.Domain.Proxy;
using Microsoft.AspNetCore.Http;

namespace LlmTrace.Domain.Management;

/// <summary>One poison message as the API shows it; <see cref="Id"/> names it in the replay route.</summary>
internal sealed record PoisonView(string Id, string Queue, string MessageId, DateTimeOffset StoredAt, Guid? TraceId, string Message);

internal sealed record PoisonPage(IReadOnlyList<PoisonView> Items);

/// <summary>
/// The dead-letter routes, for administrators: <c>GET /api/poison</c> lists what processing set aside, and
/// <c>POST /api/poison/{id}/replay</c> puts one back where it failed.
/// </summary>
public sealed class PoisonApi(IPoisonStore store, PoisonReplayer replayer)
{
    public async Task ListAsync(HttpContext context, Caller caller)
    {
        if (!caller.IsAdmin)
        {
            await ManagementAuthorizer.ForbiddenAsync(context, "Only an administrator may read poison messages.").ConfigureAwait(false);
            return;
        }

        if (!ManagementPaging.TryLimit(context.Request.Query, out var limit))
        {
            await ManagementHttp.InvalidAsync(context, "limit", ManagementPaging.Problem).ConfigureAwait(false);
            return;
        }

        var entries = await store.ListAsync(limit, context.RequestAborted).ConfigureAwait(false);
        var page = new PoisonPage(
            [.. entries.Select(e => new PoisonView(Encode(e.Reference), e.Queue, e.MessageId, e.StoredAt, TraceIdOf(e.Message), e.Message))]);
        await ManagementHttp.WriteJsonAsync(context, StatusCodes.Status200OK, page, ManagementJsonContext.Default.PoisonPage).ConfigureAwait(false);
    }

    public async Task ReplayAsync(HttpContext context, Caller caller, string id)
    {
        if (!caller.IsAdmin)
        {
            await ManagementAuthorizer.ForbiddenAsync(context, "Only an administrator may replay poison messages.").ConfigureAwait(false);
            return;
        }

        if (Decode(id) is not { } reference || !await replayer.ReplayAsync(reference, context.RequestAborted).ConfigureAwait(false))
        {
            await GatewayErrors.WriteAsync(
                context,
                ProviderKind.OpenAI,
                StatusCodes.Status404NotFound,
                "not_found_error",
                "poison_not_found",
                $"No poison message {id}.").ConfigureAwait(false);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status202Accepted;
    }

    private static string Encode(string reference) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(reference));

    private static string? Decode(string id)
    {
        try
        {
            return Encoding.UTF8.GetString(Base64Url.DecodeFromChars(id));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static Guid? TraceIdOf(string message)
    {
        try
        {
            using var document = JsonDocument.Parse(message);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("traceId", out var id)
                && id.TryGetGuid(out var traceId)
                ? traceId
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
