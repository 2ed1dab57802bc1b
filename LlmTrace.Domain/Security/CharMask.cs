using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LlmTrace.Domain.Security;

/// <summary>A class of characters tested eight at a time (one bit per character) and one at a time.</summary>
internal interface ICharClass
{
    static abstract Vector128<ushort> Test(Vector128<ushort> chars);

    static abstract bool Test(ushort c);
}

/// <summary>
/// Bit masks of where a class of characters stands, 64 characters at a time: the cheap pre-checks of the text views look
/// for shapes in these bits ("a separator every other character", "sixteen lower-case letters in a row") before they
/// look at any character.
/// </summary>
internal static class CharMask
{
    /// <summary>Bit k is set when character <paramref name="block"/> + k is of the class; at most 64 characters.</summary>
    public static ulong Of<TClass>(ReadOnlySpan<char> text, int block)
        where TClass : ICharClass
    {
        var chars = MemoryMarshal.Cast<char, ushort>(text);
        var count = Math.Min(64, chars.Length - block);
        ulong mask = 0;
        var i = 0;
        for (; i + 8 <= count; i += 8)
        {
            mask |= (ulong)TClass.Test(Vector128.Create(chars.Slice(block + i, 8))).ExtractMostSignificantBits() << i;
        }

        for (; i < count; i++)
        {
            if (TClass.Test(chars[block + i]))
            {
                mask |= 1UL << i;
            }
        }

        return mask;
    }
}

/// <summary>A space, a dot or a hyphen: what spaced-out letters are spaced with.</summary>
internal readonly struct LetterSeparators : ICharClass
{
    public static Vector128<ushort> Test(Vector128<ushort> chars)
        => Vector128.Equals(chars, Vector128.Create((ushort)' ')) | Vector128.Equals(chars, Vector128.Create((ushort)'.'))
            | Vector128.Equals(chars, Vector128.Create((ushort)'-'));

    public static bool Test(ushort c) => c is ' ' or '.' or '-';
}

/// <summary>An ASCII lower-case letter.</summary>
internal readonly struct LowerAsciiLetters : ICharClass
{
    public static Vector128<ushort> Test(Vector128<ushort> chars)
        => Vector128.LessThanOrEqual(chars - Vector128.Create((ushort)'a'), Vector128.Create((ushort)25));

    public static bool Test(ushort c) => (ushort)(c - 'a') <= 25;
}
