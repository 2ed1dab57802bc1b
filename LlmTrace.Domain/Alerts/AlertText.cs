using System.Text;

namespace LlmTrace.Domain.Alerts;

/// <summary>
/// Client-chosen values (model names, endpoints, agent ids) as they may appear in an alert's one-line summary. The relay
/// posts the summary to Slack (mrkdwn) and Teams (Adaptive Card markdown), so a value must not be able to add a link,
/// a mention or formatting there. Letters, digits, spaces and <c>- + /</c> are kept; a dot before a letter becomes
/// <c>[.]</c> and <c>@</c> becomes <c>[at]</c> (so no domain or address is auto-linked); <c>_</c> and <c>:</c> stay only
/// between letters or digits (no italics, no emoji codes); no "//" survives; anything else becomes '?'; and the value is
/// cut to a length. The full value stays in the alert's details, as JSON.
/// </summary>
internal static class AlertText
{
    public const int MaxLength = 80;

    public static string Value(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "-";
        }

        var builder = new StringBuilder(Math.Min(value.Length, MaxLength) + 8);
        for (var i = 0; i < value.Length; i++)
        {
            if (builder.Length >= MaxLength)
            {
                builder.Append('…');
                break;
            }

            var c = value[i];
            var betweenWords = i > 0 && char.IsLetterOrDigit(value[i - 1]) && i + 1 < value.Length && char.IsLetterOrDigit(value[i + 1]);
            builder.Append(c switch
            {
                _ when char.IsLetterOrDigit(c) => c.ToString(),
                ' ' or '-' or '+' => c.ToString(),
                '/' => builder.Length > 0 && builder[^1] == '/' ? "?" : "/",
                '.' => i + 1 < value.Length && char.IsLetter(value[i + 1]) ? "[.]" : ".",
                '@' => "[at]",
                '_' or ':' when betweenWords => c.ToString(),
                _ => "?",
            });
        }

        return builder.ToString();
    }
}
