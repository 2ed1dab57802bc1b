using System.Buffers;

namespace LlmTrace.Domain.Security;

/// <summary>Vectorised search for words and phrases that start a word of a text ("kill" in "killed", not in "skill").</summary>
internal static class WordSearch
{
    /// <summary>Where the first of <paramref name="values"/> at or after <paramref name="from"/> starts a word, or -1.</summary>
    public static int IndexOfAnyAtWordStart(ReadOnlySpan<char> text, SearchValues<string> values, int from = 0)
    {
        while (from < text.Length && text[from..].IndexOfAny(values) is var at and >= 0)
        {
            var start = from + at;
            if (start == 0 || !char.IsLetterOrDigit(text[start - 1]))
            {
                return start;
            }

            from = start + 1;
        }

        return -1;
    }
}
