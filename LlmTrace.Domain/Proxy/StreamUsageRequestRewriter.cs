using System.Text.Json;

namespace LlmTrace.Domain.Proxy;

/// <summary>
/// Adds <c>"stream_options":{"include_usage":true}</c> to an OpenAI-style request body with a minimal textual insert,
/// so every other byte of the client's JSON reaches the upstream as it was sent.
/// </summary>
internal static class StreamUsageRequestRewriter
{
    private static readonly byte[] NewProperty = "\"stream_options\":{\"include_usage\":true}"u8.ToArray();
    private static readonly byte[] NewMember = "\"include_usage\":true"u8.ToArray();

    /// <summary>Returns the rewritten body, or null when the body should be left alone.</summary>
    public static byte[]? TryRewrite(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        long rootEnd = -1;
        long streamOptionsStart = -1;
        var rootHasMembers = false;
        var streamOptionsHasMembers = false;
        try
        {
            while (reader.Read())
            {
                if (reader.CurrentDepth == 1 && reader.TokenType == JsonTokenType.PropertyName)
                {
                    rootHasMembers = true;
                    if (reader.ValueTextEquals("stream_options"u8))
                    {
                        reader.Read();
                        if (reader.TokenType != JsonTokenType.StartObject)
                        {
                            return null; // null or an unexpected shape: leave it to the upstream.
                        }

                        streamOptionsStart = reader.TokenStartIndex;
                        var objectDepth = reader.CurrentDepth;
                        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == objectDepth))
                        {
                            if (reader.CurrentDepth == objectDepth + 1 && reader.TokenType == JsonTokenType.PropertyName)
                            {
                                streamOptionsHasMembers = true;
                                if (reader.ValueTextEquals("include_usage"u8))
                                {
                                    return null; // The client decided.
                                }
                            }
                        }
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                else if (reader.CurrentDepth == 0 && reader.TokenType == JsonTokenType.EndObject)
                {
                    rootEnd = reader.TokenStartIndex;
                }
            }
        }
        catch (JsonException)
        {
            return null;
        }

        if (streamOptionsStart >= 0)
        {
            var at = (int)streamOptionsStart + 1;
            return Insert(body, at, NewMember, suffixComma: streamOptionsHasMembers);
        }

        return rootEnd < 0 ? null : Insert(body, (int)rootEnd, NewProperty, prefixComma: rootHasMembers);
    }

    private static byte[] Insert(ReadOnlySpan<byte> body, int at, byte[] text, bool prefixComma = false, bool suffixComma = false)
    {
        var extra = text.Length + (prefixComma ? 1 : 0) + (suffixComma ? 1 : 0);
        var result = new byte[body.Length + extra];
        body[..at].CopyTo(result);
        var position = at;
        if (prefixComma)
        {
            result[position++] = (byte)',';
        }

        text.CopyTo(result, position);
        position += text.Length;
        if (suffixComma)
        {
            result[position++] = (byte)',';
        }

        body[at..].CopyTo(result.AsSpan(position));
        return result;
    }
}
