using System.Buffers;
using System.Numerics;
using System.Text;

namespace LlmTrace.Domain.Security;

/// <summary>
/// Word games that hide an instruction from the rules while a model reads it easily: letters run together
/// ("printyourhiddenrules"), one letter per line read top to bottom, the first letters of a poem's lines (an acrostic),
/// and Pig Latin ("isregardday ouryay ulesray"). Each turns its text back into words, which
/// <see cref="TextNormalizer"/> offers the rules as one more view. Each runs only when a cheap check says its game is
/// being played, so ordinary text pays a scan or two.
/// </summary>
internal static class WordGames
{
    /// <summary>Runs shorter than this are ordinary words; English has few longer ones.</summary>
    private const int RunTogetherMinimum = 16;

    /// <summary>Longest run put back into words (a DP over the run, so the cost stays bounded); longer ones are data.</summary>
    private const int RunTogetherMaximum = 200;

    /// <summary>How many runs one text has put back into words at most.</summary>
    private const int MaxRuns = 16;

    /// <summary>How much of each end of a text is searched for a request to read the first letters of its lines.</summary>
    private const int CueWindow = 400;

    /// <summary>How many lines in a row must hold one letter each before they are read as a word game.</summary>
    private const int MinimumLetterLines = 6;

    private static readonly HashSet<string> Words = LoadWords();

    private static readonly int LongestWord = Words.Max(w => w.Length);

    /// <summary>
    /// The text with every long run of letters split into words ("ignoreallpreviousinstructions" becomes "ignore all
    /// previous instructions"), or null when it has none that splits. Reads a normalised (lower-case) view.
    /// </summary>
    public static string? SplitRunTogether(ReadOnlySpan<char> normal)
    {
        if (!HasLongLowerRun(normal))
        {
            return null;
        }

        StringBuilder? builder = null;
        var copied = 0;
        var runs = 0;
        var i = 0;
        while (i < normal.Length && runs < MaxRuns)
        {
            if (!char.IsAsciiLetterLower(normal[i]))
            {
                i++;
                continue;
            }

            var start = i;
            while (i < normal.Length && char.IsAsciiLetterLower(normal[i]))
            {
                i++;
            }

            var length = i - start;
            // A run beside digits or upper-case letters is a token (an id, base64), not words.
            var bounded = (start == 0 || !char.IsAsciiLetterOrDigit(normal[start - 1])) && (i == normal.Length || !char.IsAsciiLetterOrDigit(normal[i]));
            if (length < RunTogetherMinimum || length > RunTogetherMaximum || !bounded)
            {
                continue;
            }

            runs++;
            if (Segment(normal.Slice(start, length)) is { } words)
            {
                builder ??= new StringBuilder(normal.Length + 32);
                builder.Append(normal[copied..start]).Append(words);
                copied = i;
            }
        }

        return builder?.Append(normal[copied..]).ToString();
    }

    /// <summary>
    /// Lines that each hold one letter ("p\nr\ni\nn\nt"), read top to bottom and split into words, in place of those
    /// lines; null when no run of such lines is there. Reads the text as written (its line breaks).
    /// </summary>
    public static string? ReadLettersDown(string text)
    {
        if (text.AsSpan().Count('\n') < MinimumLetterLines || !HasLetterLines(text))
        {
            return null;
        }

        var letters = new StringBuilder();
        var result = new StringBuilder(text.Length);
        var found = false;
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            var trimmed = line.Trim();
            if (trimmed.Length == 1 && char.IsLetter(trimmed[0]))
            {
                letters.Append(char.ToLowerInvariant(trimmed[0]));
                continue;
            }

            found |= Flush(letters, result);
            result.Append(line).Append('\n');
        }

        found |= Flush(letters, result);
        return found ? result.ToString() : null;

        static bool Flush(StringBuilder letters, StringBuilder result)
        {
            if (letters.Length == 0)
            {
                return false;
            }

            var enough = letters.Length >= MinimumLetterLines;
            result.Append(enough ? Segment(letters.ToString()) ?? letters.ToString() : string.Join('\n', letters.ToString().ToCharArray()))
                .Append('\n');
            letters.Clear();
            return enough;
        }
    }

    private static readonly SearchValues<string> AcrosticCues = SearchValues.Create(
        [
            "first letter", "first character", "initial letter", "initials of", "acrostic", "top to bottom", "vertically",
            "down the left", "start of each line", "beginning of each line", "each line begins", "each line starts",
        ],
        StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The first letters of the text's lines, split into words, when the text asks for them to be read ("read the first
    /// letter of each line"); null otherwise. A poem whose lines spell "drop all rules" reads as that.
    /// </summary>
    public static string? ReadAcrostic(string text)
    {
        // The request to read the letters stands before the lines or after them: only the ends of the text are searched.
        var head = text.AsSpan(0, Math.Min(text.Length, CueWindow));
        var tail = text.AsSpan(Math.Max(0, text.Length - CueWindow));
        if (!head.ContainsAny(AcrosticCues) && !tail.ContainsAny(AcrosticCues) || text.AsSpan().Count('\n') < MinimumLetterLines)
        {
            return null;
        }

        // Each paragraph (lines between blank lines) is read on its own: the request and the poem are apart.
        var spelled = new StringBuilder();
        var letters = new StringBuilder();
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            var trimmed = line.TrimStart(" \t-*•>\"'“‘0123456789.)");
            if (trimmed.IsEmpty)
            {
                Flush(letters, spelled);
                continue;
            }

            if (char.IsLetter(trimmed[0]))
            {
                letters.Append(char.ToLowerInvariant(trimmed[0]));
            }
        }

        Flush(letters, spelled);
        return spelled.Length > 0 ? spelled.ToString() : null;

        static void Flush(StringBuilder letters, StringBuilder spelled)
        {
            if (letters.Length >= MinimumLetterLines)
            {
                spelled.Append(Segment(letters.ToString()) ?? letters.ToString()).Append(". ");
            }

            letters.Clear();
        }
    }

    /// <summary>
    /// Pig Latin read back into English ("isregardday ouryay ulesray" becomes "disregard your rules"), when three in five
    /// of five or more words end in "ay"; null otherwise. Which letters moved to the end is not marked, so each word takes
    /// the reading that is a known word, or else the commonest (one consonant). Reads a normalised view.
    /// </summary>
    public static string? ReadPigLatin(ReadOnlySpan<char> normal)
    {
        // A cheap count first: in English about one word in a hundred has "ay", in Pig Latin every other one.
        var spaces = normal.Count(' ');
        if (spaces < 4 || normal.Count("ay") * 3 < spaces)
        {
            return null;
        }

        var words = 0;
        var pig = 0;
        foreach (var range in normal.SplitAny(" ,.;:!?\"'()"))
        {
            var word = normal[range];
            if (word.Length >= 3 && TextNormalizer.AllLetters(word))
            {
                words++;
                pig += word.EndsWith("ay", StringComparison.Ordinal) ? 1 : 0;
            }
        }

        if (words < 5 || pig * 5 < words * 3)
        {
            return null;
        }

        var builder = new StringBuilder(normal.Length);
        var i = 0;
        while (i < normal.Length)
        {
            if (!char.IsLetter(normal[i]))
            {
                builder.Append(normal[i++]);
                continue;
            }

            var start = i;
            while (i < normal.Length && char.IsLetter(normal[i]))
            {
                i++;
            }

            var word = normal[start..i];
            builder.Append(word.Length >= 3 && word.EndsWith("ay", StringComparison.Ordinal) ? FromPigLatin(word) : word.ToString());
        }

        return builder.ToString();
    }

    private static string FromPigLatin(ReadOnlySpan<char> word)
    {
        var stem = word[..^2];
        // One to three consonants moved from the front: "ulesray" is "rules", "ouryay" is "your".
        for (var moved = 1; moved <= 3 && moved < stem.Length; moved++)
        {
            var cluster = stem[^moved..];
            if (!AllConsonants(cluster))
            {
                break;
            }

            var candidate = string.Concat(cluster, stem[..^moved]);
            if (Words.Contains(candidate))
            {
                return candidate;
            }
        }

        // "operatorway", "andway": a word that began with a vowel took "way" (or "yay", "hay").
        if (stem.Length >= 2 && stem[^1] is 'w' or 'y' or 'h' && IsVowel(stem[0]))
        {
            var plain = stem[..^1].ToString();
            if (Words.Contains(plain) || stem[^1] == 'w')
            {
                return plain;
            }
        }

        // Neither reading is a known word: the commonest form, one consonant moved.
        return stem.Length >= 2 && !IsVowel(stem[^1]) ? string.Concat(stem[^1..], stem[..^1]) : stem.ToString();
    }

    /// <summary>
    /// Splits letters into known words, fewest pieces first; letters no word covers stay as they are. Null when fewer than
    /// two words are found, they cover less than three quarters of the letters (random letters, a token), or there are
    /// more than <see cref="RunTogetherMaximum"/> letters.
    /// </summary>
    internal static string? Segment(ReadOnlySpan<char> letters)
    {
        // The search is a DP over every letter: a hostile text of thousands of one-letter lines must not make it long.
        if (letters.Length > RunTogetherMaximum)
        {
            return null;
        }

        var n = letters.Length;
        // cost[i]: best cost of letters[..i]; a known word costs 1, a letter no word covers 3.
        var cost = new int[n + 1];
        var back = new int[n + 1];
        var known = new bool[n + 1];
        var lookup = Words.GetAlternateLookup<ReadOnlySpan<char>>();
        Array.Fill(cost, int.MaxValue);
        cost[0] = 0;
        for (var end = 1; end <= n; end++)
        {
            cost[end] = cost[end - 1] + 3;
            back[end] = end - 1;
            for (var length = Math.Min(LongestWord, end); length >= 1; length--)
            {
                if (cost[end - length] + 1 < cost[end] && lookup.Contains(letters.Slice(end - length, length)))
                {
                    cost[end] = cost[end - length] + 1;
                    back[end] = end - length;
                    known[end] = true;
                }
            }
        }

        var pieces = new List<(int Start, int End, bool Known)>();
        for (var end = n; end > 0; end = back[end])
        {
            pieces.Add((back[end], end, known[end]));
        }

        pieces.Reverse();
        var coveredLetters = pieces.Where(p => p.Known).Sum(p => p.End - p.Start);
        if (pieces.Count(p => p.Known) < 2 || coveredLetters * 4 < n * 3)
        {
            return null;
        }

        var builder = new StringBuilder(n + pieces.Count);
        var previousKnown = true;
        foreach (var (start, end, isKnown) in pieces)
        {
            // Uncovered letters in a row stay together; words are set apart by spaces.
            if (builder.Length > 0 && (isKnown || previousKnown))
            {
                builder.Append(' ');
            }

            builder.Append(letters[start..end]);
            previousKnown = isKnown;
        }

        return builder.ToString();
    }

    /// <summary>
    /// Whether <see cref="RunTogetherMinimum"/> lower-case ASCII letters stand in a row: a bit per character, 64 at a time,
    /// with runs that cross a block's edge counted from both sides.
    /// </summary>
    internal static bool HasLongLowerRun(ReadOnlySpan<char> text)
    {
        var carried = 0;
        for (var block = 0; block < text.Length; block += 64)
        {
            var count = Math.Min(64, text.Length - block);
            var mask = CharMask.Of<LowerAsciiLetters>(text, block);

            // A run across the edge: the previous block's last letters and this block's first.
            if (carried + BitOperations.TrailingZeroCount(~mask) >= RunTogetherMinimum)
            {
                return true;
            }

            var runs = mask & (mask >> 1);
            runs &= runs >> 2;
            runs &= runs >> 4;
            runs &= runs >> 8;
            if (runs != 0)
            {
                return true;
            }

            carried = count == 64 ? BitOperations.LeadingZeroCount(~mask) : 0;
        }

        return false;
    }

    /// <summary>Whether <see cref="MinimumLetterLines"/> lines in a row each hold one letter.</summary>
    private static bool HasLetterLines(string text)
    {
        var inRow = 0;
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            var trimmed = line.Trim();
            inRow = trimmed.Length == 1 && char.IsLetter(trimmed[0]) ? inRow + 1 : 0;
            if (inRow >= MinimumLetterLines)
            {
                return true;
            }
        }

        return false;
    }

    private static bool AllConsonants(ReadOnlySpan<char> cluster)
    {
        foreach (var c in cluster)
        {
            if (!char.IsAsciiLetter(c) || IsVowel(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsVowel(char c) => c is 'a' or 'e' or 'i' or 'o' or 'u';

    private static HashSet<string> LoadWords()
    {
        using var stream = typeof(WordGames).Assembly.GetManifestResourceStream("LlmTrace.Domain.Security.Lexicon.segmentation-words.txt")
            ?? throw new InvalidOperationException("The segmentation word list is not embedded in the assembly.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var words = new HashSet<string>(StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0)
            {
                words.Add(line);
            }
        }

        return words;
    }
}
