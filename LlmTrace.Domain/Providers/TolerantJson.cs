using System.Globalization;
using System.Text;

namespace LlmTrace.Domain.Providers;

/// <summary>
/// Reads the string values out of bytes that look like JSON but cannot be parsed (malformed, too deep, truncated):
/// every <c>"…"</c> literal that is not an object key, unescaped, at any depth. It never throws and is linear in the
/// input, so a body built to defeat the JSON reader still has its text analysed.
/// </summary>
internal static class TolerantJson
{
    /// <summary>Keys whose values are identifiers or payloads.</summary>
    private static readonly HashSet<string> SkippedKeys = new(StringComparer.Ordinal) { "data", "signature", "file_data", "encrypted_content", "id", "type" };

    public static List<string> StringValues(ReadOnlySpan<byte> body)
    {
        var values = new List<string>();
        string? lastKey = null;
        var i = 0;
        while (i < body.Length)
        {
            var quote = body[i..].IndexOf((byte)'"');
            if (quote < 0)
            {
                break;
            }

            var start = i + quote + 1;
            var end = start;
            while (end < body.Length && body[end] != (byte)'"')
            {
                end += body[end] == (byte)'\\' ? 2 : 1;
            }

            end = Math.Min(end, body.Length);
            var value = Unescape(Encoding.UTF8.GetString(body[start..end]));
            i = end + 1;
            var next = i;
            while (next < body.Length && body[next] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
            {
                next++;
            }

            if (next < body.Length && body[next] == (byte)':')
            {
                lastKey = value;
                continue;
            }

            if ((lastKey is null || !SkippedKeys.Contains(lastKey)) && !string.IsNullOrWhiteSpace(value) && !PromptBuilder.IsPayload(value))
            {
                values.Add(value);
            }
        }

        return values;
    }

    /// <summary>JSON escapes undone; a malformed escape is kept as written.</summary>
    internal static string Unescape(string text)
    {
        var backslash = text.IndexOf('\\');
        if (backslash < 0)
        {
            return text;
        }

        var builder = new StringBuilder(text.Length);
        builder.Append(text, 0, backslash);
        for (var i = backslash; i < text.Length; i++)
        {
            var c = text[i];
            if (c != '\\' || i + 1 >= text.Length)
            {
                builder.Append(c);
                continue;
            }

            var e = text[++i];
            switch (e)
            {
                case 'n': builder.Append('\n'); break;
                case 't': builder.Append('\t'); break;
                case 'r': builder.Append('\r'); break;
                case 'b': builder.Append('\b'); break;
                case 'f': builder.Append('\f'); break;
                case 'u' when i + 4 < text.Length
                    && ushort.TryParse(text.AsSpan(i + 1, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code):
                    builder.Append((char)code);
                    i += 4;
                    break;
                default: builder.Append(e); break;
            }
        }

        // A \uD800 with no partner would be an invalid string everywhere downstream.
        for (var i = 0; i < builder.Length; i++)
        {
            if (char.IsHighSurrogate(builder[i]) && i + 1 < builder.Length && char.IsLowSurrogate(builder[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(builder[i]))
            {
                builder[i] = '\uFFFD';
            }
        }

        return builder.ToString();
    }
}
