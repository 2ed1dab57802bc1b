using System.Buffers;
using System.Net;
using System.Numerics;
using System.Text;
using System.Text.RegularExpressions;

namespace LlmTrace.Domain.Security;

/// <summary>One PII item or secret found in a text, with its span.</summary>
public sealed record SensitiveMatch(string Category, string Kind, int Start, int Length);

/// <summary>
/// PII and secrets. Every pattern with a checksum or a structure is validated, so look-alikes that fail it do not match:
/// payment cards (Luhn + issuer prefix + length), IBAN (country length + mod-97), US SSN (valid ranges), UK NINO
/// (valid prefixes), JWT (a JSON header with <c>alg</c>), generic credentials (keyword + entropy).
/// </summary>
internal static partial class SensitiveDataDetector
{
    public const string Pii = "pii";
    public const string Secret = "secret";

    public static IReadOnlyList<SensitiveMatch> Detect(string? text)
    {
        var found = new List<SensitiveMatch>();
        if (string.IsNullOrEmpty(text))
        {
            return found;
        }

        // Secrets first: a key inside a connection string is reported once, as the longer secret.
        Add(found, text, Secret, "pem_private_key", PemKey());
        Add(found, text, Secret, "azure_storage_connection_string", AzureConnectionString());
        AddNear(found, text, Secret, "azure_storage_account_key", AzureAccountKey(), static t => t.IndexOf("==", StringComparison.Ordinal), before: 90, after: 4);
        Add(found, text, Secret, "azure_sas_token", AzureSas());
        Add(found, text, Secret, "anthropic_api_key", AnthropicKey());
        Add(found, text, Secret, "openai_api_key", OpenAIKey());
        Add(found, text, Secret, "aws_access_key_id", AwsKeyId());
        AddGroup(found, text, Secret, "aws_secret_access_key", AwsSecret(), group: 1, validate: null);
        Add(found, text, Secret, "github_token", GitHubToken());
        Add(found, text, Secret, "slack_token", SlackToken());
        Add(found, text, Secret, "slack_webhook", SlackWebhook());
        Add(found, text, Secret, "stripe_key", StripeKey());
        Add(found, text, Secret, "google_api_key", GoogleKey());
        Add(found, text, Secret, "jwt", Jwt(), validate: IsJwt);
        // The keyword gate is ordinal; the pattern's (?i) also folds the Kelvin sign to 'k', so non-ASCII text is scanned whole.
        if (text.AsSpan().ContainsAny(CredentialKeywords) || !System.Text.Ascii.IsValid(text))
        {
            AddGroup(found, text, Secret, "generic_credential", GenericCredential(), group: 2, validate: v => Entropy(v) >= 3.0 && v.Any(char.IsDigit) && v.Any(char.IsLetter));
        }

        AddNear(found, text, Pii, "email", Email(), static t => t.IndexOf('@'), EmailExtent);

        // '\d' also matches the digits of other scripts, which the ASCII digit search below would not find.
        Func<ReadOnlySpan<char>, int>? nextDigit = System.Text.Ascii.IsValid(text) ? NextDigit : null;
        AddNear(found, text, Pii, "payment_card", Card(), nextDigit, before: 48, after: 48, validate: IsPaymentCard);
        Add(found, text, Pii, "iban", Iban(), validate: IsIban);
        AddNear(found, text, Pii, "us_ssn", Ssn(), nextDigit, before: 16, after: 16, validate: IsSsn);
        Add(found, text, Pii, "uk_nino", Nino(), validate: IsNino);
        AddNear(found, text, Pii, "ip_address", IPv4(), nextDigit, before: 20, after: 20, validate: static v => IPAddress.TryParse(v, out _));
        AddNear(found, text, Pii, "ip_address", IPv6(), static t => t.IndexOf(':'), before: 44, after: 44, validate: static v => v.Count(':') >= 2 && IPAddress.TryParse(v, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6);
        AddNear(found, text, Pii, "phone", Phone(), nextDigit, before: 32, after: 40, validate: IsPhone);
        return found;
    }

    /// <summary>The text with each match replaced by <c>[REDACTED:kind]</c> (see <see cref="Replaced"/>).</summary>
    public static string Redact(string text, IEnumerable<SensitiveMatch> matches)
    {
        var builder = new StringBuilder(text.Length);
        var position = 0;
        foreach (var match in Replaced(matches))
        {
            builder.Append(text, position, match.Start - position).Append(Replacement(match.Kind));
            position = match.Start + match.Length;
        }

        return builder.Append(text, position, text.Length - position).ToString();
    }

    /// <summary>The matches <see cref="Redact"/> replaces: in order, each one not starting inside an earlier one.</summary>
    internal static List<SensitiveMatch> Replaced(IEnumerable<SensitiveMatch> matches)
    {
        var replaced = new List<SensitiveMatch>();
        var end = 0;
        foreach (var match in matches.OrderBy(m => m.Start))
        {
            if (match.Start >= end)
            {
                replaced.Add(match);
                end = match.Start + match.Length;
            }
        }

        return replaced;
    }

    /// <summary>What <see cref="Redact"/> puts in place of a match of this kind.</summary>
    public static string Replacement(string kind) => $"[REDACTED:{kind}]";

    /// <summary>A preview that shows the shape, never the value: a few leading characters of a known prefix, then stars.</summary>
    public static string Preview(string text, SensitiveMatch match)
    {
        var value = text.AsSpan(match.Start, match.Length);
        var keep = match.Category == Secret ? Math.Min(4, value.Length / 4) : Math.Min(1, value.Length);
        if (match.Kind == "email" && value.IndexOf('@') is var at and > 0)
        {
            return string.Concat(value[..1], new string('*', at - 1), value[at..]);
        }

        return string.Concat(value[..keep], new string('*', Math.Min(12, value.Length - keep)), $" ({match.Length} chars)");
    }

    /// <summary>A validator that reads the matched text in place.</summary>
    private delegate bool SpanPredicate(ReadOnlySpan<char> value);

    /// <summary>Every match in the whole text; <see cref="Regex.EnumerateMatches(ReadOnlySpan{char})"/> allocates nothing per match.</summary>
    private static void Add(List<SensitiveMatch> found, string text, string category, string kind, Regex pattern, SpanPredicate? validate = null)
    {
        foreach (var match in pattern.EnumerateMatches(text))
        {
            Accept(found, text, category, kind, match.Index, match.Length, validate);
        }
    }

    /// <summary>For the two patterns whose secret is a capture group, not the whole match.</summary>
    private static void AddGroup(List<SensitiveMatch> found, string text, string category, string kind, Regex pattern, int group, Func<string, bool>? validate)
    {
        for (var match = pattern.Match(text); match.Success; match = match.NextMatch())
        {
            var value = match.Groups[group];
            if (value.Success && (validate is null || validate(value.Value)))
            {
                Accept(found, text, category, kind, value.Index, value.Length, null);
            }
        }
    }

    /// <summary>
    /// Runs a pattern only in windows around the occurrences of a string every match must contain ('@' for e-mail, a
    /// digit for numbers): most prompts have few of them, and scanning the whole text costs most of the detector's
    /// time. Without a search (<paramref name="next"/> null) the whole text is scanned. A match that reaches a window's edge may be cut short there (or may see a lookaround differently), so then
    /// the whole text is scanned instead: the results are the same as scanning the whole text, only cheaper.
    /// </summary>
    private static void AddNear(
        List<SensitiveMatch> found, string text, string category, string kind, Regex pattern, Func<ReadOnlySpan<char>, int>? next, int before, int after,
        SpanPredicate? validate = null)
        => AddNear(found, text, category, kind, pattern, next, before, after, extent: null, validate);

    private static void AddNear(
        List<SensitiveMatch> found, string text, string category, string kind, Regex pattern, Func<ReadOnlySpan<char>, int>? next,
        Func<string, int, (int Start, int End)> extent, SpanPredicate? validate = null)
        => AddNear(found, text, category, kind, pattern, next, before: 0, after: 0, extent, validate);

    /// <param name="extent">The window around an anchor; when null, <paramref name="before"/> and <paramref name="after"/> characters either side.</param>
    private static void AddNear(
        List<SensitiveMatch> found,
        string text,
        string category,
        string kind,
        Regex pattern,
        Func<ReadOnlySpan<char>, int>? next,
        int before,
        int after,
        Func<string, int, (int Start, int End)>? extent,
        SpanPredicate? validate)
    {
        if (next is null)
        {
            Add(found, text, category, kind, pattern, validate);
            return;
        }

        List<(int Index, int Length)>? matches = null; // most texts have no anchor at all
        var position = 0;
        var windowStart = -1;
        var windowEnd = -1;
        while (position < text.Length)
        {
            var offset = next(text.AsSpan(position));
            if (offset < 0)
            {
                break;
            }

            var anchor = position + offset;
            var (start, end) = extent is null ? (Math.Max(0, anchor - before), Math.Min(text.Length, anchor + after)) : extent(text, anchor);
            if (windowEnd >= 0 && start <= windowEnd)
            {
                windowEnd = Math.Max(windowEnd, end);
            }
            else
            {
                if (windowEnd >= 0 && !Window(text, pattern, windowStart, windowEnd, ref matches))
                {
                    Add(found, text, category, kind, pattern, validate);
                    return;
                }

                (windowStart, windowEnd) = (start, end);
            }

            position = anchor + 1;
        }

        if (windowEnd >= 0 && !Window(text, pattern, windowStart, windowEnd, ref matches))
        {
            Add(found, text, category, kind, pattern, validate);
            return;
        }

        if (matches is null)
        {
            return;
        }

        foreach (var (index, length) in matches)
        {
            Accept(found, text, category, kind, index, length, validate);
        }
    }

    /// <summary>The matches inside one window, or false when one touches an edge that is not the text's own.</summary>
    private static bool Window(string text, Regex pattern, int start, int end, ref List<(int Index, int Length)>? matches)
    {
        foreach (var match in pattern.EnumerateMatches(text.AsSpan(start, end - start)))
        {
            var index = start + match.Index;
            if ((index == start && start > 0) || (index + match.Length == end && end < text.Length))
            {
                return false;
            }

            (matches ??= []).Add((index, match.Length));
        }

        return true;
    }

    private static void Accept(List<SensitiveMatch> found, string text, string category, string kind, int index, int length, SpanPredicate? validate)
    {
        if (validate is not null && !validate(text.AsSpan(index, length)))
        {
            return;
        }

        foreach (var existing in found)
        {
            if (index < existing.Start + existing.Length && existing.Start < index + length)
            {
                return; // Already covered by an earlier, more specific match.
            }
        }

        found.Add(new SensitiveMatch(category, kind, index, length));
    }

    private static int NextDigit(ReadOnlySpan<char> text) => text.IndexOfAnyInRange('0', '9');

    /// <summary>
    /// An address's window: the whole run of local-part characters before the '@' and of domain characters after it,
    /// and one character more each side for the boundaries. The pattern has no length limits, so a fixed window could
    /// cut an address short.
    /// </summary>
    private static (int Start, int End) EmailExtent(string text, int at)
    {
        var start = at;
        while (start > 0 && (char.IsAsciiLetterOrDigit(text[start - 1]) || text[start - 1] is '.' or '_' or '%' or '+' or '-'))
        {
            start--;
        }

        var end = at + 1;
        while (end < text.Length && (char.IsAsciiLetterOrDigit(text[end]) || text[end] is '.' or '-'))
        {
            end++;
        }

        return (Math.Max(0, start - 1), Math.Min(text.Length, end + 1));
    }

    private static readonly SearchValues<string> CredentialKeywords = SearchValues.Create(["password", "passwd", "pwd", "secret", "token", "key"], StringComparison.OrdinalIgnoreCase);

    internal static bool IsPaymentCard(ReadOnlySpan<char> candidate)
    {
        Span<char> buffer = stackalloc char[candidate.Length];
        var digits = Digits(candidate, buffer);
        if (digits.Length is < 13 or > 19 || !digits.ContainsAnyExcept(digits[0]))
        {
            return false;
        }

        var prefix2 = int.Parse(digits[..2], System.Globalization.CultureInfo.InvariantCulture);
        var prefix4 = int.Parse(digits[..4], System.Globalization.CultureInfo.InvariantCulture);
        var issuer = digits[0] == '4' && digits.Length is 13 or 16 or 19 // Visa
            || (prefix2 is >= 51 and <= 55 || prefix4 is >= 2221 and <= 2720) && digits.Length == 16 // Mastercard
            || prefix2 is 34 or 37 && digits.Length == 15 // Amex
            || (prefix4 == 6011 || prefix2 == 65 || prefix4 / 10 is >= 644 and <= 649) && digits.Length is >= 16 and <= 19 // Discover
            || prefix4 is >= 3528 and <= 3589 && digits.Length is >= 16 and <= 19 // JCB
            || (prefix4 / 10 is >= 300 and <= 305 || prefix2 is 36 or 38 or 39) && digits.Length is >= 14 and <= 19 // Diners
            || prefix2 == 62 && digits.Length is >= 16 and <= 19; // UnionPay
        return issuer && Luhn(digits);
    }

    internal static bool Luhn(ReadOnlySpan<char> digits)
    {
        var sum = 0;
        var doubleIt = false;
        for (var i = digits.Length - 1; i >= 0; i--)
        {
            var d = digits[i] - '0';
            if (doubleIt)
            {
                d *= 2;
                if (d > 9)
                {
                    d -= 9;
                }
            }

            sum += d;
            doubleIt = !doubleIt;
        }

        return sum % 10 == 0;
    }

    /// <summary>The IBAN's country length and its ISO 7064 mod-97 check, computed digit by digit.</summary>
    internal static bool IsIban(ReadOnlySpan<char> candidate)
    {
        Span<char> buffer = stackalloc char[candidate.Length];
        var length = 0;
        foreach (var c in candidate)
        {
            if (c != ' ')
            {
                buffer[length++] = char.ToUpperInvariant(c);
            }
        }

        var iban = buffer[..length];
        if (iban.Length < 4 || !IbanLengths.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(iban[..2], out var expected) || iban.Length != expected)
        {
            return false;
        }

        if (!System.Text.Ascii.IsValid(iban))
        {
            return false; // '\d' also matches other scripts' digits, which IBANs never use
        }

        var remainder = 0;
        for (var i = 0; i < iban.Length; i++)
        {
            var c = iban[(i + 4) % iban.Length]; // the first four characters go to the end
            remainder = char.IsAsciiLetter(c)
                ? ((remainder * 100) + (c - 'A' + 10)) % 97
                : ((remainder * 10) + (c - '0')) % 97;
        }

        return remainder == 1;
    }

    internal static bool IsSsn(ReadOnlySpan<char> candidate)
    {
        Span<char> buffer = stackalloc char[candidate.Length];
        var digits = Digits(candidate, buffer);
        if (digits.Length != 9)
        {
            return false;
        }

        var area = int.Parse(digits[..3], System.Globalization.CultureInfo.InvariantCulture);
        var group = int.Parse(digits.Slice(3, 2), System.Globalization.CultureInfo.InvariantCulture);
        var serial = int.Parse(digits.Slice(5, 4), System.Globalization.CultureInfo.InvariantCulture);
        return area is not (0 or 666) && area < 900 && group != 0 && serial != 0 && !digits.SequenceEqual("123456789") && !digits.SequenceEqual("078051120");
    }

    internal static bool IsNino(ReadOnlySpan<char> candidate)
    {
        Span<char> prefix = [char.ToUpperInvariant(candidate[0]), char.ToUpperInvariant(candidate[1])];
        return prefix[1] != 'O' && !NinoExcludedPrefixes.Contains(new string(prefix));
    }

    internal static bool IsPhone(ReadOnlySpan<char> candidate)
    {
        Span<char> buffer = stackalloc char[candidate.Length];
        var digits = Digits(candidate, buffer);
        var distinct = 0;
        Span<bool> seen = stackalloc bool[10];
        foreach (var d in digits)
        {
            if (!seen[d - '0'])
            {
                seen[d - '0'] = true;
                distinct++;
            }
        }

        return digits.Length is >= 10 and <= 15 && distinct >= 3;
    }

    internal static bool IsJwt(ReadOnlySpan<char> candidate)
    {
        var header = candidate[..candidate.IndexOf('.')];
        try
        {
            var json = Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(header));
            return json.Contains("\"alg\"", StringComparison.Ordinal);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>The digits of a match as ASCII ('\d' also matches other scripts' digits, such as Arabic-Indic ones).</summary>
    private static ReadOnlySpan<char> Digits(ReadOnlySpan<char> candidate, Span<char> buffer)
    {
        var count = 0;
        foreach (var c in candidate)
        {
            if (char.IsAsciiDigit(c))
            {
                buffer[count++] = c;
            }
            else if (char.IsDigit(c))
            {
                buffer[count++] = (char)('0' + (int)char.GetNumericValue(c));
            }
        }

        return buffer[..count];
    }

    private static readonly HashSet<string> NinoExcludedPrefixes = new(["BG", "GB", "NK", "KN", "TN", "NT", "ZZ"], StringComparer.Ordinal);

    internal static double Entropy(string value)
    {
        var entropy = 0.0;
        foreach (var group in value.GroupBy(c => c))
        {
            var p = group.Count() / (double)value.Length;
            entropy -= p * Math.Log2(p);
        }

        return entropy;
    }

    private static readonly Dictionary<string, int> IbanLengths = new(StringComparer.Ordinal)
    {
        ["AD"] = 24, ["AE"] = 23, ["AL"] = 28, ["AT"] = 20, ["AZ"] = 28, ["BA"] = 20, ["BE"] = 16, ["BG"] = 22, ["BH"] = 22, ["BR"] = 29,
        ["CH"] = 21, ["CR"] = 22, ["CY"] = 28, ["CZ"] = 24, ["DE"] = 22, ["DK"] = 18, ["DO"] = 28, ["EE"] = 20, ["EG"] = 29, ["ES"] = 24,
        ["FI"] = 18, ["FO"] = 18, ["FR"] = 27, ["GB"] = 22, ["GE"] = 22, ["GI"] = 23, ["GL"] = 18, ["GR"] = 27, ["GT"] = 28, ["HR"] = 21,
        ["HU"] = 28, ["IE"] = 22, ["IL"] = 23, ["IQ"] = 23, ["IS"] = 26, ["IT"] = 27, ["JO"] = 30, ["KW"] = 30, ["KZ"] = 20, ["LB"] = 28,
        ["LI"] = 21, ["LT"] = 20, ["LU"] = 20, ["LV"] = 21, ["MC"] = 27, ["MD"] = 24, ["ME"] = 22, ["MK"] = 19, ["MR"] = 27, ["MT"] = 31,
        ["MU"] = 30, ["NL"] = 18, ["NO"] = 15, ["PK"] = 24, ["PL"] = 28, ["PS"] = 29, ["PT"] = 25, ["QA"] = 29, ["RO"] = 24, ["RS"] = 22,
        ["SA"] = 24, ["SE"] = 24, ["SI"] = 19, ["SK"] = 24, ["SM"] = 27, ["TN"] = 24, ["TR"] = 26, ["UA"] = 29, ["VG"] = 24, ["XK"] = 20,
    };

    [GeneratedRegex(@"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----|$)")]
    private static partial Regex PemKey();

    [GeneratedRegex(@"DefaultEndpointsProtocol=https?;AccountName=[a-z0-9]{3,24};AccountKey=[A-Za-z0-9+/]{86}==(?:;[A-Za-z]+=[^;\s""']+)*", RegexOptions.IgnoreCase)]
    private static partial Regex AzureConnectionString();

    [GeneratedRegex(@"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{86}==(?![A-Za-z0-9+/=])")]
    private static partial Regex AzureAccountKey();

    [GeneratedRegex(@"(?:[?&]|^)sv=\d{4}-\d{2}-\d{2}&[^\s""'<>]*?sig=[A-Za-z0-9%+/=]{20,}[^\s""'<>]*")]
    private static partial Regex AzureSas();

    [GeneratedRegex(@"\bsk-ant-(?:api|admin|oat)\d{2}-[A-Za-z0-9_\-]{32,}")]
    private static partial Regex AnthropicKey();

    [GeneratedRegex(@"\bsk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_\-]{32,}(?![A-Za-z0-9_\-])")]
    private static partial Regex OpenAIKey();

    [GeneratedRegex(@"\b(?:AKIA|ASIA|ABIA|ACCA|AROA|AIDA)[0-9A-Z]{16}\b")]
    private static partial Regex AwsKeyId();

    [GeneratedRegex(@"(?i:aws_?secret_?access_?key|aws_?secret)[""']?\s*[:=]\s*[""']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])")]
    private static partial Regex AwsSecret();

    [GeneratedRegex(@"\b(?:(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{60,})\b")]
    private static partial Regex GitHubToken();

    [GeneratedRegex(@"\bxox[abposre]-[A-Za-z0-9\-]{10,}")]
    private static partial Regex SlackToken();

    [GeneratedRegex(@"https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+")]
    private static partial Regex SlackWebhook();

    [GeneratedRegex(@"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{20,}\b")]
    private static partial Regex StripeKey();

    [GeneratedRegex(@"\bAIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])")]
    private static partial Regex GoogleKey();

    [GeneratedRegex(@"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}")]
    private static partial Regex Jwt();

    [GeneratedRegex(@"(?i)\b(password|passwd|pwd|secret|token|api[_\-]?key|access[_\-]?key|client[_\-]?secret|auth[_\-]?token)\b[""']?\s*[:=]\s*[""']?([^\s""',;]{8,})")]
    private static partial Regex GenericCredential();

    [GeneratedRegex(@"\b[A-Za-z0-9._%+\-]+@(?:[A-Za-z0-9\-]+\.)+[A-Za-z]{2,24}\b")]
    private static partial Regex Email();

    [GeneratedRegex(@"(?<![\d\-])(?:\d[ \-]?){12,18}\d(?![\d\-])")]
    private static partial Regex Card();

    [GeneratedRegex(@"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")]
    private static partial Regex Iban();

    [GeneratedRegex(@"(?<![\d\-])\d{3}-\d{2}-\d{4}(?![\d\-])")]
    private static partial Regex Ssn();

    [GeneratedRegex(@"\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b")]
    private static partial Regex Nino();

    [GeneratedRegex(@"(?<![\d.])(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}(?![\d.])")]
    private static partial Regex IPv4();

    [GeneratedRegex(@"(?<![0-9A-Fa-f:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![0-9A-Fa-f:])")]
    private static partial Regex IPv6();

    [GeneratedRegex(@"(?<![\w+])(?:\+\d{1,3}[ .\-]?)?(?:\(\d{1,4}\)[ .\-]?)?\d{2,4}(?:[ .\-]\d{2,4}){1,4}(?![\w])|(?<![\w+])\+\d{10,14}(?!\w)")]
    private static partial Regex Phone();
}
