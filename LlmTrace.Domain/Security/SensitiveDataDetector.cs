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
public static partial class SensitiveDataDetector
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
        Add(found, text, Secret, "azure_storage_account_key", AzureAccountKey());
        Add(found, text, Secret, "azure_sas_token", AzureSas());
        Add(found, text, Secret, "anthropic_api_key", AnthropicKey());
        Add(found, text, Secret, "openai_api_key", OpenAIKey());
        Add(found, text, Secret, "aws_access_key_id", AwsKeyId());
        Add(found, text, Secret, "aws_secret_access_key", AwsSecret(), group: 1);
        Add(found, text, Secret, "github_token", GitHubToken());
        Add(found, text, Secret, "slack_token", SlackToken());
        Add(found, text, Secret, "slack_webhook", SlackWebhook());
        Add(found, text, Secret, "stripe_key", StripeKey());
        Add(found, text, Secret, "google_api_key", GoogleKey());
        Add(found, text, Secret, "jwt", Jwt(), validate: IsJwt);
        Add(found, text, Secret, "generic_credential", GenericCredential(), group: 2, validate: v => Entropy(v) >= 3.0 && v.Any(char.IsDigit) && v.Any(char.IsLetter));

        Add(found, text, Pii, "email", Email());
        Add(found, text, Pii, "payment_card", Card(), validate: IsPaymentCard);
        Add(found, text, Pii, "iban", Iban(), validate: IsIban);
        Add(found, text, Pii, "us_ssn", Ssn(), validate: IsSsn);
        Add(found, text, Pii, "uk_nino", Nino(), validate: IsNino);
        Add(found, text, Pii, "ip_address", IPv4(), validate: v => IPAddress.TryParse(v, out _));
        Add(found, text, Pii, "ip_address", IPv6(), validate: v => v.Count(c => c == ':') >= 2 && IPAddress.TryParse(v, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6);
        Add(found, text, Pii, "phone", Phone(), validate: IsPhone);
        return found;
    }

    /// <summary>The text with each match replaced by <c>[REDACTED:kind]</c>.</summary>
    public static string Redact(string text, IEnumerable<SensitiveMatch> matches)
    {
        var builder = new StringBuilder(text.Length);
        var position = 0;
        foreach (var match in matches.OrderBy(m => m.Start))
        {
            if (match.Start < position)
            {
                continue;
            }

            builder.Append(text, position, match.Start - position).Append("[REDACTED:").Append(match.Kind).Append(']');
            position = match.Start + match.Length;
        }

        return builder.Append(text, position, text.Length - position).ToString();
    }

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

    private static void Add(List<SensitiveMatch> found, string text, string category, string kind, Regex pattern, int group = 0, Func<string, bool>? validate = null)
    {
        foreach (Match match in pattern.Matches(text))
        {
            var value = match.Groups[group];
            if (!value.Success || (validate is not null && !validate(value.Value)))
            {
                continue;
            }

            if (found.Any(f => value.Index < f.Start + f.Length && f.Start < value.Index + value.Length))
            {
                continue; // Already covered by an earlier, more specific match.
            }

            found.Add(new SensitiveMatch(category, kind, value.Index, value.Length));
        }
    }

    internal static bool IsPaymentCard(string candidate)
    {
        var digits = new string(candidate.Where(char.IsDigit).ToArray());
        if (digits.Length is < 13 or > 19 || digits.Distinct().Count() == 1)
        {
            return false;
        }

        var prefix2 = int.Parse(digits.AsSpan(0, 2), System.Globalization.CultureInfo.InvariantCulture);
        var prefix4 = int.Parse(digits.AsSpan(0, 4), System.Globalization.CultureInfo.InvariantCulture);
        var issuer = digits[0] == '4' && digits.Length is 13 or 16 or 19 // Visa
            || (prefix2 is >= 51 and <= 55 || prefix4 is >= 2221 and <= 2720) && digits.Length == 16 // Mastercard
            || prefix2 is 34 or 37 && digits.Length == 15 // Amex
            || (prefix4 == 6011 || prefix2 == 65 || prefix4 / 10 is >= 644 and <= 649) && digits.Length is >= 16 and <= 19 // Discover
            || prefix4 is >= 3528 and <= 3589 && digits.Length is >= 16 and <= 19 // JCB
            || (prefix4 / 10 is >= 300 and <= 305 || prefix2 is 36 or 38 or 39) && digits.Length is >= 14 and <= 19 // Diners
            || prefix2 == 62 && digits.Length is >= 16 and <= 19; // UnionPay
        return issuer && Luhn(digits);
    }

    internal static bool Luhn(string digits)
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

    internal static bool IsIban(string candidate)
    {
        var iban = candidate.Replace(" ", string.Empty, StringComparison.Ordinal).ToUpperInvariant();
        if (!IbanLengths.TryGetValue(iban[..2], out var length) || iban.Length != length)
        {
            return false;
        }

        var rearranged = iban[4..] + iban[..4];
        var numeric = new StringBuilder(rearranged.Length * 2);
        foreach (var c in rearranged)
        {
            numeric.Append(char.IsLetter(c) ? (c - 'A' + 10).ToString(System.Globalization.CultureInfo.InvariantCulture) : c);
        }

        return BigInteger.Parse(numeric.ToString(), System.Globalization.CultureInfo.InvariantCulture) % 97 == 1;
    }

    internal static bool IsSsn(string candidate)
    {
        var digits = new string(candidate.Where(char.IsDigit).ToArray());
        var area = int.Parse(digits.AsSpan(0, 3), System.Globalization.CultureInfo.InvariantCulture);
        var group = int.Parse(digits.AsSpan(3, 2), System.Globalization.CultureInfo.InvariantCulture);
        var serial = int.Parse(digits.AsSpan(5, 4), System.Globalization.CultureInfo.InvariantCulture);
        return area is not (0 or 666) && area < 900 && group != 0 && serial != 0 && digits != "123456789" && digits != "078051120";
    }

    internal static bool IsNino(string candidate)
    {
        var value = candidate.Replace(" ", string.Empty, StringComparison.Ordinal).ToUpperInvariant();
        var prefix = value[..2];
        return value[1] != 'O' && prefix is not ("BG" or "GB" or "NK" or "KN" or "TN" or "NT" or "ZZ");
    }

    internal static bool IsPhone(string candidate)
    {
        var digits = candidate.Count(char.IsDigit);
        var distinct = candidate.Where(char.IsDigit).Distinct().Count();
        return digits is >= 10 and <= 15 && distinct >= 3;
    }

    internal static bool IsJwt(string candidate)
    {
        var header = candidate[..candidate.IndexOf('.', StringComparison.Ordinal)];
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
