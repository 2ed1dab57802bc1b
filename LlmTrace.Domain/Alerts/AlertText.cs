using System.Text;

namespace LlmTrace.Domain.Alerts;

/// <summary>
/// Client-chosen values (model names, endpoints, agent ids) as they may appear in an alert's one-line summary. The relay
/// posts the summary to Slack (mrkdwn) and Teams (Adaptive Card markdown), so a value must not be able to add a link,
/// a mention or formatting there: only letters, digits, spaces and <c>. _ - : / @ +</c> are kept, anything else
/// becomes '?', no "//" survives (which would make a URL clickable), and the value is cut to a length. The full value
/// stays in the alert's details, as JSON.
/// </summary>
public static class AlertText
{
    public const int MaxLength = 80;

    public static string Value(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "-";
        }

        var builder = new StringBuilder(Math.Min(value.Length, MaxLength + 1));
        foreach (var c in value)
        {
            if (builder.Length == MaxLength)
            {
                builder.Append('…');
                break;
            }

            var safe = char.IsLetterOrDigit(c) || c is ' ' or '.' or '-' or ':' or '@' or '+' or '/' || (c == '_' && builder.Length > 0 && builder[^1] != '_');
            builder.Append(!safe || (c == '/' && builder.Length > 0 && builder[^1] == '/') ? '?' : c);
        }

        return builder.ToString();
    }
}
