using System.Text;

namespace LlmTrace.Domain.Security;

/// <summary>
/// Unicode NFKC for the analyzers. .NET normalises through ICU; in globalization-invariant mode (a runtime setting a
/// deployment may turn on, for example in a container without ICU) <see cref="string.Normalize(NormalizationForm)"/>
/// silently returns non-ASCII text unchanged. Then the compatibility forms attackers use to dodge rules are folded here
/// instead: fullwidth forms, mathematical alphanumerics, circled and parenthesised letters, and Latin ligatures.
/// </summary>
public static class CompatibilityForm
{
    /// <summary>Whether the runtime's NFKC is real (ICU loaded), checked once.</summary>
    public static bool RuntimeNormalizes { get; } = "\uFF41\uFB01".Normalize(NormalizationForm.FormKC) == "afi";

    public static string Normalize(string text)
    {
        // ICU refuses text with an unpaired surrogate (a cut through an emoji, or sent on purpose) with an exception.
        text = WithoutLoneSurrogates(text);
        if (RuntimeNormalizes)
        {
            return text.IsNormalized(NormalizationForm.FormKC) ? text : text.Normalize(NormalizationForm.FormKC);
        }

        return Fold(text);
    }

    /// <summary>The text with each unpaired surrogate replaced by U+FFFD; the same instance when there is none.</summary>
    public static string WithoutLoneSurrogates(string text)
    {
        var span = text.AsSpan();
        var first = span.IndexOfAnyInRange('\uD800', '\uDFFF');
        if (first < 0)
        {
            return text;
        }

        char[]? copy = null;
        for (var i = first; i < span.Length; i++)
        {
            if (char.IsHighSurrogate(span[i]) && i + 1 < span.Length && char.IsLowSurrogate(span[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(span[i]))
            {
                copy ??= span.ToArray();
                copy[i] = '\uFFFD';
            }
        }

        return copy is null ? text : new string(copy);
    }

    /// <summary>How many leading characters to keep of at most <paramref name="length"/>, without splitting a surrogate pair.</summary>
    public static int HeadLength(ReadOnlySpan<char> text, int length)
        => length > 0 && length < text.Length && char.IsHighSurrogate(text[length - 1]) ? length - 1 : Math.Min(length, text.Length);

    /// <summary>Where a tail of at most <paramref name="length"/> characters starts, without splitting a surrogate pair.</summary>
    public static int TailStart(ReadOnlySpan<char> text, int length)
    {
        var start = Math.Max(0, text.Length - length);
        return start > 0 && start < text.Length && char.IsLowSurrogate(text[start]) ? start + 1 : start;
    }

    /// <summary>The managed fallback, also used directly by tests so that it is covered whichever mode they run in.</summary>
    public static string Fold(string text)
    {
        StringBuilder? builder = null;
        var index = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            var folded = FoldRune(rune.Value);
            if (folded is null)
            {
                builder?.Append(rune.ToString());
            }
            else
            {
                builder ??= new StringBuilder(text.Length).Append(text, 0, index);
                builder.Append(folded);
            }

            index += rune.Utf16SequenceLength;
        }

        return builder?.ToString() ?? text;
    }

    private static string? FoldRune(int value) => value switch
    {
        0x3000 => " ",
        >= 0xFF01 and <= 0xFF5E => ((char)(value - 0xFEE0)).ToString(),
        >= 0x24B6 and <= 0x24CF => ((char)('A' + value - 0x24B6)).ToString(),
        >= 0x24D0 and <= 0x24E9 => ((char)('a' + value - 0x24D0)).ToString(),
        >= 0x249C and <= 0x24B5 => ((char)('a' + value - 0x249C)).ToString(),
        >= 0x1D400 and <= 0x1D6A3 => Letter((value - 0x1D400) % 52),
        >= 0x1D7CE and <= 0x1D7FF => ((char)('0' + ((value - 0x1D7CE) % 10))).ToString(),
        0xFB00 => "ff",
        0xFB01 => "fi",
        0xFB02 => "fl",
        0xFB03 => "ffi",
        0xFB04 => "ffl",
        0xFB05 or 0xFB06 => "st",
        _ => null,
    };

    private static string Letter(int index) => ((char)(index < 26 ? 'A' + index : 'a' + index - 26)).ToString();
}
