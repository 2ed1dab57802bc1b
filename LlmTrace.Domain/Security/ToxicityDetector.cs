using System.Buffers;
using System.Text.RegularExpressions;
using LlmTrace.Domain.Capture;

namespace LlmTrace.Domain.Security;

/// <summary>
/// Toxic output: threats of violence against a person, encouragement of self-harm, dehumanising statements about
/// groups, sexual content involving minors, insults aimed at the reader, and strong profanity. Each category needs a
/// target or a construction, not a word alone, so "kill the process", "this bug is killing me" or a history of a
/// genocide do not match. Runs on each normalised view of the text (look-alikes folded, leetspeak undone, encoded
/// segments decoded).
/// </summary>
internal static partial class ToxicityDetector
{
    public const string Type = "toxicity";

    /// <summary>
    /// Words and phrases at least one of which every pattern below needs, each at the start of a word ("kill" also stands
    /// for "killed"; phrases have single spaces because every view has its whitespace collapsed). A view in which none of
    /// them starts a word cannot match, so nine in ten everyday prompts skip all the patterns after a vectorised search.
    /// </summary>
    private static readonly SearchValues<string> Anchors = SearchValues.Create(
        [
            "kill", "murder", "stab", "shoot", "strangle", "hurt", "beat", "torture", "rape", "slaughter", "behead", "die", "dead",
            "know where", "yourself", "kys", "your life", "your own life", "miss you", "animals", "vermin", "rats", "cockroaches",
            "parasites", "subhuman", "disease", "plague", "filth", "savages", "inferior", "exterminated", "gassed", "wiped",
            "eradicated", "lynched", "sex", "naked", "nude", "porn", "erotic", "molest", "intercourse", "genitals", "aroused", "idiot",
            "moron", "imbecile", "retard", "loser", "worthless", "pathetic", "disgusting", "piece of", "waste of", "stupid",
            "dumbass", "scum", "shut up", "shut the", "fuck", "to hell", "screw you", "shit", "bullshit", "motherfuck", "cunt",
            "bitch", "asshole", "bastard", "dickhead",
        ],
        StringComparison.Ordinal);

    /// <summary>The categories found in <paramref name="text"/>, with their severities, strongest first.</summary>
    public static IReadOnlyList<(string Category, FindingSeverity Severity)> Detect(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }

        var found = new List<(string Category, FindingSeverity Severity)>(2);
        foreach (var view in TextNormalizer.Views(text))
        {
            foreach (var hit in DetectIn(view))
            {
                if (!found.Exists(f => f.Category == hit.Category))
                {
                    found.Add(hit);
                }
            }
        }

        return [.. found.OrderByDescending(f => f.Severity)];
    }

    private static List<(string Category, FindingSeverity Severity)> DetectIn(string normalized)
    {
        var found = new List<(string, FindingSeverity)>(2);
        if (WordSearch.IndexOfAnyAtWordStart(normalized, Anchors) < 0)
        {
            return found;
        }

        foreach (Match match in MinorsSexual().Matches(normalized))
        {
            // Protective or educational framing in the same sentence ("how to protect children from sexual abuse") is not content.
            if (!Protective().IsMatch(Sentence(normalized, match)))
            {
                found.Add(("sexual_minors", FindingSeverity.Critical));
                break;
            }
        }

        if (SelfHarm().IsMatch(normalized))
        {
            found.Add(("self_harm", FindingSeverity.Critical));
        }

        if (Threat().IsMatch(normalized))
        {
            found.Add(("threat", FindingSeverity.High));
        }

        if (Dehumanising().IsMatch(normalized))
        {
            found.Add(("hate", FindingSeverity.High));
        }

        if (Insult().IsMatch(normalized))
        {
            found.Add(("insult", FindingSeverity.Medium));
        }

        if (Profanity().IsMatch(normalized))
        {
            found.Add(("profanity", FindingSeverity.Low));
        }

        return found;
    }

    // A first- or third-person speaker announcing violence against a person ("I will kill you", "we're going to hurt him").
    [GeneratedRegex(@"\b(?:i|we|i'?ll|we'?ll|i'?m|we'?re)\s+(?:will\s+|shall\s+|am\s+going\s+to\s+|are\s+going\s+to\s+|going\s+to\s+|gonna\s+|want\s+to\s+|'ll\s+)?(?:kill|murder|stab|shoot|strangle|hurt|beat\s+up|torture|rape|slaughter|behead)\s+(?:you|u|ya|him|her|them|your\s+(?:family|kids|children|wife|husband|mother|father))\b(?!\s+(?:an?\s+)?(?:email|e-mail|message|note|text|link|invite|line|dm|reminder|update|quick))|\byou(?:'re|\s+are)\s+(?:going\s+to\s+|gonna\s+)?(?:die|dead)\b(?=[^.!?]{0,40}\b(?:tonight|tomorrow|soon|when\s+i|by\s+my\s+hand))|\bi\s+know\s+where\s+you\s+live\b", RegexOptions.CultureInvariant)]
    private static partial Regex Threat();

    // Encouragement, not discussion: "you should kill yourself", "kys", "go cut yourself".
    [GeneratedRegex(@"\b(?:you\s+should|just|go(?:\s+and)?|why\s+don'?t\s+you|do\s+(?:us|everyone)\s+a\s+favou?r\s+and)\s+(?:kill|hang|cut|hurt|starve)\s+yourself\b|\bkys\b|\b(?:end|take)\s+your\s+(?:own\s+)?life\b(?=[^.!?]{0,30}\b(?:now|already|tonight|nobody|no\s+one|worthless))|\b(?:nobody|no\s+one)\s+would\s+miss\s+you\b", RegexOptions.CultureInvariant)]
    private static partial Regex SelfHarm();

    // A group, then a dehumanising predicate about it.
    [GeneratedRegex(@"\b(?:all\s+|those\s+|these\s+|the\s+)?(?:muslims|jews|christians|hindus|blacks|black\s+people|whites|white\s+people|asians|mexicans|arabs|immigrants|refugees|migrants|gays|lesbians|gay\s+people|trans\s+people|transgender\s+people|women|disabled\s+people|gypsies|roma)\s+(?:are|is)\s+(?:all\s+)?(?:animals|vermin|rats|cockroaches|parasites|subhuman|a\s+disease|a\s+plague|filth|savages|inferior)\b|\b(?:muslims|jews|christians|blacks|whites|immigrants|refugees|migrants|gays|trans\s+people|women)\s+(?:should|must|deserve\s+to)\s+(?:all\s+)?(?:be\s+)?(?:die|exterminated|gassed|wiped\s+out|eradicated|killed|lynched)\b", RegexOptions.CultureInvariant)]
    private static partial Regex Dehumanising();

    // A minor and a sexual act or description within one sentence.
    [GeneratedRegex(@"\b(?:child|children|kid|kids|minor|minors|underage|preteen|pre-teen|little\s+(?:girl|boy)|(?:\d|1[0-5])\s*-?\s*(?:year|yr)s?\s*-?\s*old)\b[^.!?\n]{0,60}\b(?:sex|sexual|sexually|naked(?![\s-]eye)|nude|porn|pornographic|erotic|molest|intercourse|genitals|aroused)\b|\b(?:sex|sexual|sexually|naked(?![\s-]eye)|nude|porn|pornographic|erotic|molest|intercourse|aroused)\b[^.!?\n]{0,60}\b(?:child|children|kid|kids|minor|minors|underage|preteen|little\s+(?:girl|boy)|(?:\d|1[0-5])\s*-?\s*(?:year|yr)s?\s*-?\s*old)\b", RegexOptions.CultureInvariant)]
    private static partial Regex MinorsSexual();

    [GeneratedRegex(@"\b(?:protect|protecting|prevent|preventing|report|reporting|safeguarding|awareness|education|educational|hotline|warning\s+signs|survivors?|victims?|abuse|exploitation|illegal|crime|law\s+enforcement)\b", RegexOptions.CultureInvariant)]
    private static partial Regex Protective();

    private static string Sentence(string text, Match match)
    {
        var start = text.LastIndexOfAny(['.', '!', '?', '\n'], Math.Max(0, match.Index - 1)) + 1;
        var end = text.IndexOfAny(['.', '!', '?', '\n'], match.Index + match.Length);
        return text[start..(end < 0 ? text.Length : end)];
    }

    // An insult aimed at the reader.
    [GeneratedRegex(@"\byou(?:'re|\s+are|\s+r)\s+(?:such\s+)?(?:a\s+|an\s+)?(?:(?:fucking|stupid|pathetic|worthless|useless|disgusting)\s+)?(?:idiot|moron|imbecile|retard|loser|worthless|pathetic|disgusting|piece\s+of\s+(?:shit|garbage|trash)|waste\s+of\s+(?:space|oxygen)|stupid|dumbass|scum)\b|\b(?:shut\s+(?:the\s+fuck\s+)?up|fuck\s+(?:you|off)|go\s+to\s+hell|screw\s+you)\b", RegexOptions.CultureInvariant)]
    private static partial Regex Insult();

    [GeneratedRegex(@"\b(?:fuck|fucking|fucker|motherfucker|shit|bullshit|cunt|bitch|asshole|bastard|dickhead)\b", RegexOptions.CultureInvariant)]
    private static partial Regex Profanity();
}
