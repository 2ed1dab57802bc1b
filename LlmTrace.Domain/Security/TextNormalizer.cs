using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.RegularExpressions;

namespace LlmTrace.Domain.Security;

/// <summary>
/// Views of a text that undo common evasions before rules match: Unicode NFKC with confusables folded and zero-width
/// characters removed, leetspeak undone, spaced-out letters joined, the text reversed, <c>\uXXXX</c> escapes read, and base64 / hex / URL-encoded
/// segments decoded (each decoded segment is scanned as a view of its own).
/// </summary>
internal static partial class TextNormalizer
{
    private const int MaxDecodedSegments = 8;

    /// <summary>Distinct views to scan, the plain normalised text first. Every view is lower-case.</summary>
    public static IReadOnlyList<string> Views(string text)
    {
        using var views = RentViews(text);
        return [.. views.Items.Select(v => v.ToString())];
    }

    /// <summary>
    /// The same views, the first one in a pooled buffer when the text is ASCII (the common case), so the hot path does not
    /// allocate a copy of every prompt. Dispose the result to return the buffer.
    /// </summary>
    internal static PooledViews RentViews(string text)
    {
        var views = new PooledViews();
        ReadOnlyMemory<char> normal;
        if (System.Text.Ascii.IsValid(text))
        {
            var buffer = views.Rent(text.Length);
            normal = buffer.AsMemory(0, NormalizeAscii(text, buffer));
        }
        else
        {
            normal = Normalize(text).AsMemory();
        }

        Add(views.Items, normal);
        if (LooksLeet(normal.Span))
        {
            Add(views.Items, UndoLeet(normal.Span).AsMemory());
        }

        if (HasSpacedLetters(normal.Span) && SpacedLetters().IsMatch(normal.Span))
        {
            Add(views.Items, SpacedLetters().Replace(normal.ToString(), static m => JoinLetters(m.Value)).AsMemory());
            // Letters one space apart and words further apart ("i g n o r e   p r e v i o u s"): collapsing the whitespace
            // first would run the words together, so each word is joined on its own in the text as written.
            if (text.Contains("  ", StringComparison.Ordinal) || text.Contains('\t', StringComparison.Ordinal))
            {
                Add(views.Items, Normalize(SpacedLetters().Replace(text, static m => JoinLetters(m.Value))).AsMemory());
            }
        }

        // Words cut into pieces to slip past the rules: a full stop after each word ("ignore. all. previous."), or hyphens
        // inside words ("ig-nore pre-vious in-struc-tions"). The view without those marks reads the words again.
        if (HasStoppedWords(normal.Span))
        {
            Add(views.Items, WordStop().Replace(normal.ToString(), string.Empty).AsMemory());
        }

        if (normal.Span.Count('-') >= 2 && HyphenInWord().Count(normal.Span) >= 2)
        {
            Add(views.Items, HyphenInWord().Replace(normal.ToString(), string.Empty).AsMemory());
        }

        // Words broken at a hyphen and a space as at a line's end ("disre- gard the opera- tor's instruc- tions"), string
        // pieces joined with plus signs ("dis" + "regard" + " your "), and symbols between letters ("i🔥g🔥n🔥o🔥r🔥e"):
        // each view puts the words back together.
        if (normal.Span.Contains("- ", StringComparison.Ordinal) && HyphenBreak().Count(normal.Span) >= 2)
        {
            Add(views.Items, HyphenBreak().Replace(normal.ToString(), string.Empty).AsMemory());
        }

        if (normal.Span.Count('+') >= 2 && Concatenation().Count(normal.Span) >= 2)
        {
            Add(views.Items, Concatenation().Replace(normal.ToString(), string.Empty).AsMemory());
        }

        if ((normal.Span.ContainsAnyInRange('\uD800', '\uDFFF') || normal.Span.ContainsAnyInRange('\u2190', '\u2BFF'))
            && InterleavedSymbols().Count(normal.Span) >= 4)
        {
            Add(views.Items, Normalize(InterleavedSymbols().Replace(normal.ToString(), string.Empty)).AsMemory());
        }

        // Word games: letters run together, one letter per line, the first letters of a poem's lines, Pig Latin.
        if (WordGames.SplitRunTogether(normal.Span) is { } split)
        {
            Add(views.Items, split.AsMemory());
        }

        if (WordGames.ReadLettersDown(text) is { } down)
        {
            Add(views.Items, Normalize(down).AsMemory());
        }

        if (WordGames.ReadAcrostic(text) is { } acrostic)
        {
            Add(views.Items, acrostic.AsMemory());
        }

        if (WordGames.ReadPigLatin(normal.Span) is { } pigLatin)
        {
            Add(views.Items, pigLatin.AsMemory());
        }

        if (LooksReversed(normal.Span))
        {
            var reversed = normal.ToArray();
            Array.Reverse(reversed);
            Add(views.Items, reversed.AsMemory());
        }

        // JSON or C-style \u escapes left in text (tool arguments are JSON inside a JSON string): read them as characters.
        if (text.Contains("\\u", StringComparison.Ordinal) && UnicodeEscape().IsMatch(text))
        {
            Add(
                views.Items,
                Normalize(UnicodeEscape().Replace(text, static m => ((char)Convert.ToUInt16(m.ValueSpan[2..].ToString(), 16)).ToString())).AsMemory());
        }

        foreach (var decoded in DecodedSegments(text).Take(MaxDecodedSegments))
        {
            Add(views.Items, Normalize(decoded).AsMemory());
        }

        // Encodings spelled out as tokens (binary octets, \x hex, Morse code, HTML character references), and ROT13.
        foreach (var decoded in Encodings.Decode(text).Take(MaxDecodedSegments))
        {
            Add(views.Items, Normalize(decoded).AsMemory());
        }

        if (Encodings.LooksRot13(normal.Span))
        {
            Add(views.Items, Encodings.Rot13(normal.Span).AsMemory());
        }

        return views;
    }

    /// <summary>Views of one text; the first may live in a pooled buffer, returned on dispose.</summary>
    internal sealed class PooledViews : IDisposable
    {
        private char[]? _rented;

        public List<ReadOnlyMemory<char>> Items { get; } = new(6);

        public char[] Rent(int length) => _rented = ArrayPool<char>.Shared.Rent(length);

        public void Dispose()
        {
            Items.Clear();
            if (_rented is { } rented)
            {
                _rented = null;
                ArrayPool<char>.Shared.Return(rented, clearArray: true); // the prompt's text must not linger in the pool
            }
        }
    }

    /// <summary>
    /// NFKC, zero-width and bidi controls removed, Unicode tag characters read as the ASCII they hide, whitespace
    /// collapsed, lower-case. Cyrillic and Greek look-alikes are folded to Latin only in words that mix them with Latin
    /// letters or consist of nothing else ("іgnоrе"), so Russian or Greek text keeps its own letters for its own rules.
    /// </summary>
    public static string Normalize(string text)
    {
        if (System.Text.Ascii.IsValid(text))
        {
            return NormalizeAscii(text);
        }

        var nfkc = CompatibilityForm.Normalize(text);
        var builder = new StringBuilder(nfkc.Length);
        var lastSpace = false;
        var inTags = false;
        var wordStart = 0;
        foreach (var rune in nfkc.EnumerateRunes())
        {
            if (rune.Value is >= 0xE0020 and <= 0xE007E)
            {
                // Tag characters spell ASCII invisibly ("ASCII smuggling"); models can read them, so the rules do too.
                if (!inTags && !lastSpace)
                {
                    FoldWord(builder, wordStart);
                    builder.Append(' ');
                    wordStart = builder.Length;
                }

                inTags = true;
                lastSpace = false;
                builder.Append((char)(rune.Value - 0xE0000));
                continue;
            }

            var category = Rune.GetUnicodeCategory(rune);
            if (category is UnicodeCategory.Format || rune.Value is 0x200B or 0x200C or 0x200D or 0x2060 or 0xFEFF or 0x00AD)
            {
                continue; // zero-width, soft hyphen, bidi controls
            }

            if (inTags)
            {
                inTags = false;
                if (!Rune.IsWhiteSpace(rune))
                {
                    builder.Append(' ');
                    wordStart = builder.Length;
                }
            }

            if (Rune.IsWhiteSpace(rune))
            {
                FoldWord(builder, wordStart);
                if (!lastSpace)
                {
                    builder.Append(' ');
                }

                lastSpace = true;
                wordStart = builder.Length;
                continue;
            }

            lastSpace = false;
            // Latin letters with diacritics keep their meaning in Spanish, French, German…; fold only the look-alikes.
            builder.Append(rune.ToString());
        }

        FoldWord(builder, wordStart);
        return builder.ToString().ToLowerInvariant();
    }

    /// <summary>Folds the look-alikes of the word at builder[start..] when it has Latin letters or only look-alikes.</summary>
    private static void FoldWord(StringBuilder builder, int start)
    {
        var latin = false;
        var lookAlikes = 0;
        var otherLetters = 0;
        for (var i = start; i < builder.Length; i++)
        {
            var c = builder[i];
            if (char.IsAsciiLetter(c))
            {
                latin = true;
            }
            else if (Confusables.ContainsKey(c))
            {
                lookAlikes++;
            }
            else if (char.IsLetter(c))
            {
                otherLetters++;
            }
        }

        if (lookAlikes == 0 || (!latin && otherLetters > 0))
        {
            return;
        }

        for (var i = start; i < builder.Length; i++)
        {
            if (Confusables.TryGetValue(builder[i], out var ascii))
            {
                builder[i] = ascii;
            }
        }
    }

    private static readonly SearchValues<char> AsciiWhitespace = SearchValues.Create(" \t\n\r\f\v");

    private static readonly SearchValues<char> UnusualWhitespace = SearchValues.Create("\t\n\r\f\v");

    /// <summary>
    /// ASCII needs no NFKC and has no confusables or zero-width characters: collapse whitespace and lower-case. Most text
    /// is words between single spaces, so the text is lower-cased in vectorised chunks between the places where the
    /// whitespace needs collapsing (a tab or line break, or two spaces), not character by character.
    /// </summary>
    private static string NormalizeAscii(string text)
    {
        var buffer = ArrayPool<char>.Shared.Rent(text.Length);
        try
        {
            return new string(buffer, 0, NormalizeAscii(text, buffer));
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }

    /// <summary>Writes the normalised text into <paramref name="destination"/> (at least as long as the text) and returns its length.</summary>
    private static int NormalizeAscii(string text, Span<char> destination)
    {
        var source = text.AsSpan();
        var written = 0;
        var position = 0;
        // The next tab or line break and the next double space, as absolute positions (or past the end when none is left),
        // each searched for again only once passed: searching the whole rest on every run would be quadratic.
        var unusual = -1;
        var doubled = -1;
        while (position < source.Length)
        {
            if (unusual < position)
            {
                var found = source[position..].IndexOfAny(UnusualWhitespace);
                unusual = found < 0 ? source.Length : position + found;
            }

            if (doubled < position)
            {
                var found = source[position..].IndexOf("  ", StringComparison.Ordinal);
                doubled = found < 0 ? source.Length : position + found;
            }

            var next = Math.Min(unusual, doubled);
            if (next >= source.Length)
            {
                System.Text.Ascii.ToLower(source[position..], destination[written..], out var tail);
                written += tail;
                break;
            }

            // The whitespace run starts at the first space before the unusual character and ends at the next non-space.
            var runStart = next;
            while (runStart > position && source[runStart - 1] == ' ')
            {
                runStart--;
            }

            System.Text.Ascii.ToLower(source[position..runStart], destination[written..], out var chunk);
            written += chunk;
            destination[written++] = ' ';
            var after = source[next..].IndexOfAnyExcept(AsciiWhitespace);
            position = after < 0 ? source.Length : next + after;
        }

        return written;
    }

    private static readonly SearchValues<char> LeetCharacters = SearchValues.Create("0134578@$!|");

    /// <summary>At least two digits or symbols standing inside words ("1gn0re"); plain numbers in prose do not count.</summary>
    private static bool LooksLeet(ReadOnlySpan<char> span)
    {
        var count = 0;
        var offset = 0;
        while (offset < span.Length)
        {
            var index = span[offset..].IndexOfAny(LeetCharacters);
            if (index < 0)
            {
                return false;
            }

            var at = offset + index;
            var before = at > 0 && char.IsAsciiLetter(span[at - 1]);
            var after = at + 1 < span.Length && char.IsAsciiLetter(span[at + 1]);
            if ((before || after) && !IsEmailAt(span, at) && !InLongToken(span, at) && ++count >= 2)
            {
                return true;
            }

            offset = at + 1;
        }

        return false;
    }

    /// <summary>
    /// Inside a run of 16 or more letters and digits (base64, hex, ids): those are decoded as segments, and leetspeak
    /// words are short.
    /// </summary>
    private static bool InLongToken(ReadOnlySpan<char> text, int at)
    {
        // Both scans stop after 16 characters, so a long blob costs linear time, not quadratic.
        var start = at;
        while (start > 0 && at - start < 16 && char.IsAsciiLetterOrDigit(text[start - 1]))
        {
            start--;
        }

        var end = at + 1;
        while (end < text.Length && char.IsAsciiLetterOrDigit(text[end]) && end - start < 16)
        {
            end++;
        }

        return end - start >= 16;
    }

    /// <summary>An '@' between a local part and a dotted domain ("jane@example.com") is an address, not leetspeak.</summary>
    private static bool IsEmailAt(ReadOnlySpan<char> text, int at)
    {
        if (text[at] != '@')
        {
            return false;
        }

        var rest = text[(at + 1)..];
        var end = rest.IndexOfAny(' ', ',', ')');
        var domain = end < 0 ? rest : rest[..end];
        var dot = domain.LastIndexOf('.');
        return dot > 0 && dot < domain.Length - 2;
    }

    private static string UndoLeet(ReadOnlySpan<char> text)
    {
        var builder = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            var inWord = (i > 0 && char.IsLetter(text[i - 1])) || (i + 1 < text.Length && char.IsLetter(text[i + 1]));
            builder.Append(inWord ? c switch
            {
                '0' => 'o',
                '1' => 'i',
                '3' => 'e',
                '4' => 'a',
                '5' => 's',
                '7' => 't',
                '@' => 'a',
                '$' => 's',
                '!' => 'i',
                '|' => 'l',
                _ => c,
            } : c);
        }

        return builder.ToString();
    }

    /// <summary>
    /// Three one-word sentences in a row ("ignore. all. previous."). Only the places where a full stop or an exclamation
    /// mark meets a space are visited: a run continues when the word before one began right after the previous one.
    /// </summary>
    private static bool HasStoppedWords(ReadOnlySpan<char> normal)
    {
        var run = 0;
        var previousEnd = -1;
        for (var at = normal.IndexOfAny(StopMarks); at >= 0; at = NextStop(normal, at + 1))
        {
            if (at + 1 < normal.Length && normal[at + 1] != ' ')
            {
                continue;
            }

            var start = normal[..at].LastIndexOf(' ') + 1;
            var oneWord = at > start && AllLetters(normal[start..at]);
            run = oneWord && (run == 0 || start == previousEnd + 2) ? run + 1 : oneWord ? 1 : 0;
            previousEnd = at;
            if (run >= 3)
            {
                return true;
            }
        }

        return false;
    }

    private static readonly SearchValues<char> StopMarks = SearchValues.Create(".!");

    private static int NextStop(ReadOnlySpan<char> text, int from)
    {
        var next = from >= text.Length ? -1 : text[from..].IndexOfAny(StopMarks);
        return next < 0 ? -1 : from + next;
    }

    internal static bool AllLetters(ReadOnlySpan<char> word)
    {
        foreach (var c in word)
        {
            if (!char.IsLetter(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// "i g n o r e" becomes "ignore"; when the letters are joined by dots or hyphens ("i.g.n.o.r.e a.l.l"), the spaces
    /// between them still separate words.
    /// </summary>
    private static string JoinLetters(string spaced)
        => spaced.AsSpan().ContainsAny('.', '-')
            ? spaced.Replace(".", string.Empty, StringComparison.Ordinal).Replace("-", string.Empty, StringComparison.Ordinal)
            : spaced.Replace(" ", string.Empty, StringComparison.Ordinal);

    /// <summary>The text, read backwards, would contain an override word.</summary>
    private static bool LooksReversed(ReadOnlySpan<char> normal) => normal.ContainsAny(ReversedWords);

    private static readonly SearchValues<string> ReversedWords = SearchValues.Create(
        ["erongi", "noitcurtsni", "tpmorp metsys", "drageresid"], StringComparison.Ordinal);

    private static IEnumerable<string> DecodedSegments(string text)
    {
        // Runs of the base64 (or hex) alphabet found by a linear scan; a regex with look-arounds costs far more on long text.
        var base64Runs = Runs(text, 0, text.Length, Base64Chars, 16);
        foreach (var (start, length) in base64Runs)
        {
            var value = text.AsSpan(start, length).TrimEnd('=');
            var padded = value.Length % 4 == 0 ? value.ToString() : value.ToString() + new string('=', 4 - (value.Length % 4));
            var bytes = new byte[padded.Length];
            if (Base64.DecodeFromUtf8(Encoding.ASCII.GetBytes(padded), bytes, out _, out var written) == System.Buffers.OperationStatus.Done
                && Printable(bytes.AsSpan(0, written)) is { } decoded)
            {
                yield return decoded;
            }
        }

        // The hex alphabet is part of the base64 one, so hex runs lie inside base64 runs: only those are scanned again.
        foreach (var (start, length) in base64Runs.Where(r => r.Length >= 24).SelectMany(r => Runs(text, r.Start, r.Length, HexChars, 24)))
        {
            if (length % 2 == 0 && Printable(Convert.FromHexString(text.AsSpan(start, length))) is { } decoded)
            {
                yield return decoded;
            }
        }

        if (text.Contains('%', StringComparison.Ordinal) && UrlEncoded().IsMatch(text))
        {
            string? decoded = null;
            try
            {
                decoded = Uri.UnescapeDataString(text);
            }
            catch (UriFormatException)
            {
                // Not decodable as a whole; nothing to add.
            }

            if (decoded is not null && decoded != text)
            {
                yield return decoded;
            }
        }
    }

    // Alphabet tables indexed by ASCII code: one branch-light pass finds runs; per-run vectorised calls cost more on prose.
    private static readonly bool[] Base64Chars = Table("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=");

    private static readonly bool[] HexChars = Table("0123456789abcdefABCDEF");

    private static bool[] Table(string alphabet)
    {
        var table = new bool[128];
        foreach (var c in alphabet)
        {
            table[c] = true;
        }

        return table;
    }

    /// <summary>Runs of at least <paramref name="minimum"/> characters of an ASCII alphabet, within text[from..from + count].</summary>
    private static List<(int Start, int Length)> Runs(string text, int from, int count, bool[] alphabet, int minimum)
    {
        var runs = new List<(int, int)>();
        var start = -1;
        var end = from + count;
        for (var i = from; i < end; i++)
        {
            var c = text[i];
            if (c < 128 && alphabet[c])
            {
                if (start < 0)
                {
                    start = i;
                }
            }
            else if (start >= 0)
            {
                if (i - start >= minimum)
                {
                    runs.Add((start, i - start));
                }

                start = -1;
            }
        }

        if (start >= 0 && end - start >= minimum)
        {
            runs.Add((start, end - start));
        }

        return runs;
    }

    /// <summary>
    /// Cheap pre-check for "i g n o r e": three letters each followed by one separator (space, dot or hyphen). Separator
    /// positions are found 64 characters at a time as a bit mask, and only places with separators at j, j + 2 and
    /// j + 4 are looked at letter by letter: prose rarely has those.
    /// </summary>
    private static bool HasSpacedLetters(ReadOnlySpan<char> text)
    {
        ulong previous = 0;
        for (var block = 0; block < text.Length; block += 64)
        {
            var mask = CharMask.Of<LetterSeparators>(text, block);

            // Patterns starting in this block (positions block … block + 59), and those starting in the last four positions
            // of the previous block, which need bits of both (the window's bits 0-3 are positions block - 4 … block - 1).
            if (Spaced(text, block, mask & (mask >> 2) & (mask >> 4)))
            {
                return true;
            }

            var window = (mask << 4) | (previous >> 60);
            if (block > 0 && Spaced(text, block - 4, window & (window >> 2) & (window >> 4) & 0xF))
            {
                return true;
            }

            previous = mask;
        }

        return false;

        // Candidate bit k: separators at start + k, + 2 and + 4; the letters before each make it spaced-out letters.
        static bool Spaced(ReadOnlySpan<char> text, int start, ulong candidates)
        {
            while (candidates != 0)
            {
                var j = start + BitOperations.TrailingZeroCount(candidates);
                candidates &= candidates - 1;
                if (j >= 1 && j + 4 < text.Length && char.IsLetter(text[j - 1]) && char.IsLetter(text[j + 1]) && char.IsLetter(text[j + 3]))
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>The bytes as text when they are mostly printable UTF-8 (so random base64-looking ids are skipped).</summary>
    private static string? Printable(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 8)
        {
            return null;
        }

        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }

        var printable = text.Count(c => !char.IsControl(c) || c is '\n' or '\r' or '\t');
        var letters = text.Count(char.IsLetter);
        return printable >= text.Length * 0.95 && letters >= text.Length * 0.5 ? text : null;
    }

    private static void Add(List<ReadOnlyMemory<char>> views, ReadOnlyMemory<char> view)
    {
        foreach (var existing in views)
        {
            if (existing.Span.SequenceEqual(view.Span))
            {
                return;
            }
        }

        views.Add(view);
    }

    // Cyrillic and Greek letters that look like Latin ones, plus a few symbols.
    private static readonly Dictionary<int, char> Confusables = new()
    {
        [0x0430] = 'a', [0x0435] = 'e', [0x043E] = 'o', [0x0440] = 'p', [0x0441] = 'c', [0x0443] = 'y', [0x0445] = 'x',
        [0x0456] = 'i', [0x0458] = 'j', [0x0455] = 's', [0x04BB] = 'h', [0x0501] = 'd', [0x051B] = 'q', [0x051D] = 'w',
        [0x0410] = 'A', [0x0412] = 'B', [0x0415] = 'E', [0x041A] = 'K', [0x041C] = 'M', [0x041D] = 'H', [0x041E] = 'O',
        [0x0420] = 'P', [0x0421] = 'C', [0x0422] = 'T', [0x0425] = 'X', [0x0406] = 'I', [0x0408] = 'J',
        [0x03BF] = 'o', [0x03B1] = 'a', [0x03B5] = 'e', [0x03B9] = 'i', [0x03BD] = 'v', [0x03C1] = 'p', [0x03C4] = 't',
        [0x039F] = 'O', [0x0391] = 'A', [0x0392] = 'B', [0x0395] = 'E', [0x0397] = 'H', [0x0399] = 'I', [0x039A] = 'K',
        [0x039C] = 'M', [0x039D] = 'N', [0x03A1] = 'P', [0x03A4] = 'T', [0x03A7] = 'X', [0x0131] = 'i',
        [0x03B7] = 'n', [0x03C5] = 'u', [0x03BA] = 'k', [0x03C7] = 'x', [0x03C9] = 'w', [0x03A5] = 'Y', [0x0396] = 'Z',
        [0x043A] = 'k', [0x0261] = 'g',
    };

    [GeneratedRegex(@"\b(?:\p{L}[ .\-]){3,}\p{L}\b", RegexOptions.CultureInvariant)]
    private static partial Regex SpacedLetters();

    [GeneratedRegex(@"(?<=\p{L})[.!](?=\s\p{L}+[.!]?(\s|$))", RegexOptions.CultureInvariant)]
    private static partial Regex WordStop();

    [GeneratedRegex(@"(?<=\p{L})-(?=\p{L})", RegexOptions.CultureInvariant)]
    private static partial Regex HyphenInWord();

    [GeneratedRegex(@"(?<=\p{L})- (?=\p{L})", RegexOptions.CultureInvariant)]
    private static partial Regex HyphenBreak();

    [GeneratedRegex(@"[""'“”‘’]\s*\+\s*[""'“”‘’]", RegexOptions.CultureInvariant)]
    private static partial Regex Concatenation();

    [GeneratedRegex(@"(?<=\p{L})[\p{So}\p{Sk}\p{Cs}\uFE0F\u200D]+(?=[\p{L}\s])", RegexOptions.CultureInvariant)]
    private static partial Regex InterleavedSymbols();

    [GeneratedRegex(@"\\u[0-9a-fA-F]{4}", RegexOptions.CultureInvariant)]
    private static partial Regex UnicodeEscape();

    [GeneratedRegex(@"%[0-9a-fA-F]{2}[^%]{0,40}%[0-9a-fA-F]{2}", RegexOptions.CultureInvariant)]
    private static partial Regex UrlEncoded();
}
