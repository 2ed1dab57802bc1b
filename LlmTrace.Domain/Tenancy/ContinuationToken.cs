using System.Buffers.Text;
using System.Text;

namespace LlmTrace.Domain.Tenancy;

/// <summary>Opaque continuation tokens over record keys.</summary>
internal static class ContinuationToken
{
    public static string? Encode(string? key) => key is null ? null : Base64Url.EncodeToString(Encoding.UTF8.GetBytes(key));

    public static bool TryDecode(string? token, out string? key)
    {
        key = null;
        if (string.IsNullOrEmpty(token))
        {
            return true;
        }

        if (token.Length > 256)
        {
            return false;
        }

        try
        {
            key = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
            return key.Length > 0;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
