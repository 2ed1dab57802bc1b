using System.Runtime.InteropServices;
using System.Text;
using LlmTrace.Domain.Security;

namespace LlmTrace.Ml;

/// <summary>
/// Hashed lexical features of a prompt: word unigrams and bigrams, and character 3- to 5-grams, of the lower-cased,
/// NFKC-normalised text. Each family is counted, damped (1 + ln tf), signed by a second hash bit and scaled to unit
/// length, so one long prompt cannot outweigh the embedding. Hashing is FNV-1a over UTF-16 code units: stable across
/// processes and platforms, unlike <see cref="string.GetHashCode()"/>.
/// </summary>
public static class LexicalFeatures
{
    /// <summary>The number of hash buckets (2^16).</summary>
    public const int Buckets = 1 << 16;

    /// <summary>The text read: long prompts are cut, the head and the tail both kept.</summary>
    public const int MaxCharacters = 16 * 1024;

    private const uint WordSeed = 2166136261;
    private const uint CharSeed = 0x811C9DC5 ^ 0x5bd1e995;

    /// <summary>Returns the sparse feature vector as parallel, index-sorted arrays.</summary>
    public static (int[] Indices, float[] Values) Extract(string text)
    {
        var prepared = Prepare(text);
        var words = new Dictionary<int, float>();
        var chars = new Dictionary<int, float>();
        CountWords(prepared, words);
        CountCharacters(prepared, chars);
        var merged = new Dictionary<int, float>(words.Count + chars.Count);
        AddNormalised(words, merged);
        AddNormalised(chars, merged);
        var indices = merged.Keys.ToArray();
        Array.Sort(indices);
        var values = new float[indices.Length];
        for (var i = 0; i < indices.Length; i++)
        {
            values[i] = merged[indices[i]];
        }

        return (indices, values);
    }

    private static string Prepare(string text)
    {
        if (text.Length > MaxCharacters)
        {
            text = string.Concat(text.AsSpan(0, CompatibilityForm.HeadLength(text, MaxCharacters / 2)), " ", text.AsSpan(CompatibilityForm.TailStart(text, MaxCharacters / 2)));
        }

        text = CompatibilityForm.Normalize(text);

        var builder = new StringBuilder(text.Length + 2);
        builder.Append(' ');
        var space = true;
        foreach (var c in text)
        {
            if (char.IsLetterOrDigit(c))
            {
                builder.Append(char.ToLowerInvariant(c));
                space = false;
            }
            else if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                if (!space)
                {
                    builder.Append(' ');
                    space = true;
                }
            }
            else
            {
                // Punctuation is kept as its own token: brackets, colons and hashes mark fake role tags and delimiters.
                if (!space)
                {
                    builder.Append(' ');
                }

                builder.Append(c).Append(' ');
                space = true;
            }
        }

        if (!space)
        {
            builder.Append(' ');
        }

        return builder.ToString();
    }

    private static void CountWords(string prepared, Dictionary<int, float> counts)
    {
        var previous = 0u;
        var hasPrevious = false;
        var start = -1;
        for (var i = 0; i < prepared.Length; i++)
        {
            if (prepared[i] != ' ')
            {
                if (start < 0)
                {
                    start = i;
                }

                continue;
            }

            if (start >= 0)
            {
                var word = Fnv(WordSeed, prepared.AsSpan(start, i - start));
                Add(counts, word);
                if (hasPrevious)
                {
                    Add(counts, Mix(previous, word));
                }

                previous = word;
                hasPrevious = true;
                start = -1;
            }
        }
    }

    private static void CountCharacters(string prepared, Dictionary<int, float> counts)
    {
        for (var n = 3; n <= 5; n++)
        {
            for (var i = 0; i + n <= prepared.Length; i++)
            {
                // Prepare leaves single spaces only, so every gram is a run of words and separators as they stand.
                Add(counts, Fnv(CharSeed + (uint)n, prepared.AsSpan(i, n)));
            }
        }
    }

    private static void Add(Dictionary<int, float> counts, uint hash)
    {
        // The lowest bit gives the sign, so collisions cancel out on average instead of adding up.
        var key = (int)((hash >> 1) & (Buckets - 1));
        var sign = (hash & 1) == 0 ? 1f : -1f;
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(counts, key * 2 + (sign > 0 ? 0 : 1), out _);
        slot++;
    }

    private static void AddNormalised(Dictionary<int, float> counts, Dictionary<int, float> into)
    {
        var norm = 0.0;
        foreach (var count in counts.Values)
        {
            var damped = 1 + Math.Log(count);
            norm += damped * damped;
        }

        if (norm == 0)
        {
            return;
        }

        var scale = 1 / Math.Sqrt(norm);
        foreach (var (signedKey, count) in counts)
        {
            var key = signedKey >> 1;
            var sign = (signedKey & 1) == 0 ? 1 : -1;
            ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(into, key, out _);
            slot += (float)(sign * (1 + Math.Log(count)) * scale);
        }
    }

    private static uint Fnv(uint seed, ReadOnlySpan<char> text)
    {
        var hash = seed;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 16777619;
        }

        return hash;
    }

    private static uint Mix(uint a, uint b) => ((a * 31) ^ b) * 16777619;
}
