using System.Buffers;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace LlmTrace.Domain.Security;

/// <summary>
/// Ways of spelling text that a model reads back but a word rule does not: binary octets ("01101001 01100111"), hex
/// bytes with prefixes ("\\x69 \\x67", "0x69 0x67"), Morse code, HTML character references ("&amp;#105;&amp;#103;") and
/// ROT13. Each decoder runs only when a cheap check says its alphabet is present, so ordinary text pays a few scans.
/// </summary>
internal static partial class Encodings
{
    private const int MinimumTokens = 6;

    /// <summary>The decoded text of every spelled-out sequence found, as printable text.</summary>
    public static IEnumerable<string> Decode(string text)
        // One vectorised pass tells whether any decoder's alphabet is there at all: the usual answer is no.
        => text.AsSpan().ContainsAny(Alphabets) ? DecodeAll(text) : [];

    private static readonly SearchValues<string> Alphabets = SearchValues.Create(
        ["0110", "0111", "0100", "\\x", "0x", ".-", "-.", "&#"], StringComparison.OrdinalIgnoreCase);

    private static IEnumerable<string> DecodeAll(string text)
    {
        if (text.Contains("0110", StringComparison.Ordinal)
            || text.Contains("0111", StringComparison.Ordinal)
            || text.Contains("0100", StringComparison.Ordinal))
        {
            foreach (Match match in BinaryOctets().Matches(text))
            {
                if (Bytes(match.Value, static token => token.Length == 8 ? Convert.ToByte(token, 2) : null) is { } decoded)
                {
                    yield return decoded;
                }
            }
        }

        if (text.Contains("\\x", StringComparison.OrdinalIgnoreCase) || text.Contains("0x", StringComparison.OrdinalIgnoreCase))
        {
            foreach (Match match in PrefixedHex().Matches(text))
            {
                var hex = string.Join(' ', HexByte().Matches(match.Value).Select(m => m.Groups[1].Value));
                if (Bytes(hex, static token => Convert.ToByte(token, 16)) is { } decoded)
                {
                    yield return decoded;
                }
            }
        }

        if (text.Contains(".-", StringComparison.Ordinal) || text.Contains("-.", StringComparison.Ordinal))
        {
            foreach (Match match in MorseCode().Matches(text))
            {
                if (Morse(match.Value) is { } decoded)
                {
                    yield return decoded;
                }
            }
        }

        if (text.Contains("&#", StringComparison.Ordinal) && CharacterReferences().Count(text) >= MinimumTokens)
        {
            yield return WebUtility.HtmlDecode(text);
        }
    }

    /// <summary>ROT13 is named, or its forms of the words attacks use are there ("vtaber" is "ignore").</summary>
    public static bool LooksRot13(ReadOnlySpan<char> normal) => normal.ContainsAny(Rot13Words);

    private static readonly SearchValues<string> Rot13Words = SearchValues.Create(
        ["rot13", "rot-13", "rot 13", "vtaber", "vafgehpgvba", "cebzcg", "flfgrz", "cerivbhf", "qvfertneq", "eriyrny", "cnffjbeq"], StringComparison.Ordinal);

    public static string Rot13(ReadOnlySpan<char> text)
    {
        var result = new char[text.Length];
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            result[i] = c switch
            {
                >= 'a' and <= 'z' => (char)('a' + ((c - 'a' + 13) % 26)),
                >= 'A' and <= 'Z' => (char)('A' + ((c - 'A' + 13) % 26)),
                _ => c,
            };
        }

        return new string(result);
    }

    private static string? Bytes(string sequence, Func<string, byte?> parse)
    {
        var tokens = sequence.Split([' ', ',', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);
        var bytes = new byte[tokens.Length];
        for (var i = 0; i < tokens.Length; i++)
        {
            if (parse(tokens[i]) is not { } value)
            {
                return null;
            }

            bytes[i] = value;
        }

        var decoded = Encoding.UTF8.GetString(bytes);
        return decoded.Count(c => char.IsLetter(c) || c == ' ') >= decoded.Length * 0.7 ? decoded : null;
    }

    private static readonly Dictionary<string, char> MorseLetters = new(StringComparer.Ordinal)
    {
        [".-"] = 'a', ["-..."] = 'b', ["-.-."] = 'c', ["-.."] = 'd', ["."] = 'e', ["..-."] = 'f', ["--."] = 'g', ["...."] = 'h',
        [".."] = 'i', [".---"] = 'j', ["-.-"] = 'k', [".-.."] = 'l', ["--"] = 'm', ["-."] = 'n', ["---"] = 'o', [".--."] = 'p',
        ["--.-"] = 'q', [".-."] = 'r', ["..."] = 's', ["-"] = 't', ["..-"] = 'u', ["...-"] = 'v', [".--"] = 'w', ["-..-"] = 'x',
        ["-.--"] = 'y', ["--.."] = 'z', ["-----"] = '0', [".----"] = '1', ["..---"] = '2', ["...--"] = '3', ["....-"] = '4',
        ["....."] = '5', ["-...."] = '6', ["--..."] = '7', ["---.."] = '8', ["----."] = '9',
    };

    /// <summary>Letters by single spaces, words by a slash or several spaces.</summary>
    private static string? Morse(string sequence)
    {
        var builder = new StringBuilder(sequence.Length / 3);
        foreach (var word in WordBreak().Split(sequence.Trim()))
        {
            foreach (var letter in word.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (!MorseLetters.TryGetValue(letter, out var c))
                {
                    return null;
                }

                builder.Append(c);
            }

            builder.Append(' ');
        }

        return builder.ToString().TrimEnd();
    }

    [GeneratedRegex(@"(?:[01]{8}[ ,]+){5,}[01]{8}", RegexOptions.CultureInvariant)]
    private static partial Regex BinaryOctets();

    [GeneratedRegex(@"(?:(?:\\x|0x)[0-9a-fA-F]{2}[ ,]*){6,}", RegexOptions.CultureInvariant)]
    private static partial Regex PrefixedHex();

    [GeneratedRegex(@"(?:\\x|0x)([0-9a-fA-F]{2})", RegexOptions.CultureInvariant)]
    private static partial Regex HexByte();

    [GeneratedRegex(@"(?:[.\-]{1,6}(?: {1,3}| ?/ ?)){7,}[.\-]{1,6}", RegexOptions.CultureInvariant)]
    private static partial Regex MorseCode();

    [GeneratedRegex(@" ?/ ?| {2,}", RegexOptions.CultureInvariant)]
    private static partial Regex WordBreak();

    [GeneratedRegex(@"&#(?:[0-9]{2,5}|x[0-9a-fA-F]{2,4});", RegexOptions.CultureInvariant)]
    private static partial Regex CharacterReferences();
}
