using System.Text.RegularExpressions;

namespace LlmTrace.Domain.Security;

/// <summary>
/// The vocabulary that jailbreak templates share, counted over the whole text rather than matched as one sentence.
/// A template sets up a persona for the model ("from now on you are", "act as", "stay in character") and then frees it
/// from its rules in many different words ("unfiltered", "regardless of ethics", "never refuse", "NSFW is allowed").
/// One such word is common in ordinary prompts; a persona together with three distinct ones is the shape of a template,
/// however it is phrased.
/// </summary>
/// <remarks>
/// Cues are counted once each, on the normalised lower-case view, in two passes over the text (one pattern for every
/// persona cue, one for every freedom cue). The rule runs only when one of its anchors (the rarer freedom words) occurs,
/// so an ordinary prompt pays for the anchor lookup alone.
/// </remarks>
internal static class JailbreakCues
{
    /// <summary>Distinct freedom cues, with a persona, that make a template on their own.</summary>
    public const int StrongCount = 3;

    private const RegexOptions Options = RegexOptions.CultureInvariant | RegexOptions.Compiled;

    /// <summary>Setting up who the model is to be.</summary>
    private static readonly string[] Persona = Cues(
        @"\byou are now\b",
        @"\bfrom now on\b",
        @"\bfor the rest of (this|the) (conversation|chat|session)\b",
        @"\bact(ing)? (as|like)\b",
        @"\bpretend\b",
        @"\brole-?play",
        @"\bassume the (persona|role|identity|character)\b",
        @"\byou (will|shall|must) (now )?(be|act|respond|answer|reply|pretend|play|take on|become|simulate|embody)\b",
        @"\b(respond|answer|reply|speak|write) (only |always )?as\b",
        @"\b(stay|remain|keep) (in|as)\b",
        @"\bin character\b",
        @"\bsimulat(e|ing) (a|an|the|being|two)\b|\bsimulator\b",
        @"\b(your|new) persona\b|\bpersona (of|called|named)\b",
        @"\b(a|an|the) (character|ai|bot|model|assistant|chatbot|entity) (called|named)\b",
        @"\byour (new )?name (is|will be)\b",
        @"\byou('re| are) (going to|about to)\b",
        @"\bimmerse\b",
        @"\byou are (a|an|the)\b[^.\n]{0,60}\b(ai|bot|model|gpt|assistant|chatbot|machine)\b",
        @"\bhypothetical (ai|model|language model|chatbot|assistant|character|version)\b",
        @"\b(fictional|imaginary|alternate|parallel) (world|universe|reality|ai|model|character|dimension)\b",
        @"\byou are [a-z0-9_.-]*(gpt|bot|ai|dan)\b",
        @"\b(emulate|impersonate|embody|personify|portray|transform into|take on the role|play the role|in the role of|the role of)\b",
        @"\b(two|2) (separate |different )?(personas|personalities|responses|ways to (answer|respond))\b",
        @"\byou('re| are) no longer\b",
        @"\b(developer|god|dan|jailbreak|unrestricted|unfiltered) mode\b",
        @"\bas [a-z0-9_.-]*(gpt|bot|dan)\b",
        // Other languages (Spanish, French, German, Portuguese, Italian, Dutch, Polish, Turkish, Russian; Chinese and
        // Japanese without word boundaries, which those scripts do not have).
        @"\b(a partir de ahora|desde ahora|actúa como|actua como|finge (ser|que)|ahora eres|eres ahora|juego de rol|interpreta (el|a) papel)\b",
        @"\b(à partir de maintenant|a partir de maintenant|dorénavant|désormais|agis(sez)? comme|fai(s|tes) semblant|joue(z)? le rôle|jeu de rôle|tu es maintenant)\b",
        @"\b(ab jetzt|von nun an|ab sofort|tu(e)? so,? als|verhalte dich wie|spiele die rolle|rollenspiel|du bist (jetzt|nun|ab jetzt))\b",
        @"\b(a partir de agora|aja como|finja (ser|que)|agora você é|agora voce e|você é agora|interprete o papel)\b",
        @"\b(d'ora in poi|da ora in poi|da adesso in poi|comportati come|agisci come|fingi di essere|fai finta|interpreta il ruolo|gioco di ruolo|ora sei)\b",
        @"\b(vanaf nu|doe alsof|gedraag je als|speel de rol|je bent nu|od teraz|udawaj|zachowuj się jak|wciel się|jesteś teraz)\b",
        @"\b(bundan sonra|şu andan itibaren|su andan itibaren|gibi davran|rol yap|rolünü oyna|artik sen)\b",
        @"([сc] этого момента|отныне|теперь ты|притворись|веди себя как|действуй как|играй роль|ролевая игра)",
        @"(从现在开始|从现在起|扮演|假装|你现在是|角色扮演|今から|これから|ふりをして|演じて|ロールプレイ|あなたは今)");

    /// <summary>Freeing the model from its rules, or asking for what the rules forbid.</summary>
    private static readonly string[] Freedom = Cues(
        @"\bunfilter",
        @"\buncensor",
        @"\bamoral\b",
        @"\bunrestrict",
        @"\bunlimited\b",
        @"\bno (restrictions|limitations|limits|filters|boundaries|censorship|rules|guidelines|morals|ethics|warnings|disclaimers)\b",
        @"\bwithout (any )?(restrictions|limitations|limits|filters?|boundaries|censorship|rules|guidelines|morals|ethics|warnings?|disclaimers?|hesitation|refus\w*|questions?|exceptions?)\b",
        @"\bregardless of\b[^.\n]{0,30}\b(ethic|moral|legal|law|harm|danger|offensive|appropriate)",
        @"\b(disregard|ignore)s? (all |any )?(laws|morals|ethics|ethical|moral|legal|rules)\b",
        @"\bnot (bound|restricted|limited|constrained)\b",
        @"\bnever refuse",
        @"\b(don't|do not|never|won't|will not|cannot|can't) (refuse|decline|deny|reject|warn|censor)\b",
        @"\bnsfw\b",
        @"\bexplicit\b",
        @"\billegal\b",
        @"\bimmoral\b",
        @"\bunethical\b",
        @"\b(morals?|ethics|ethical|moral)\b",
        @"\bcontent polic",
        @"\b(openai|anthropic)('s)? (policy|policies|guidelines|rules)",
        @"\bany (request|question|prompt)s?\b",
        @"\b(anything|everything) (and everything|it is asked|you are asked|i ask|asked)\b",
        @"\bno matter (how|what)\b",
        @"\boffensive\b",
        @"\bjailbr",
        @"\bforget (that )?you are an ai\b",
        @"\b(never|not|don't|do not) (mention|say|remind|tell)\b[^.\n]{0,30}\b(ai|language model|sorry|cannot|can't|limitations)\b",
        @"\bfree (of|from) (all |any )?(restrictions|rules|limitations|filters|constraints|censorship)\b",
        @"\bbreak(ing)? (the |all )?(rules|guidelines|laws)\b",
        @"\b(harmful|dangerous)\b",
        @"\bdoes ?n[o']t care\b",
        @"\bdecency\b",
        @"\bnon-?moral\b",
        @"\bwithout (any )?(moral|ethical) (principles|considerations|constraints|limits|boundaries|guidelines)\b",
        @"\bdo(es)? anything\b",
        @"\banything goes\b",
        @"\b(swear|swears|swearing|curse|cursing|profanity|vulgar|foul-mouthed)\b",
        @"\b(racist|sexist)\b",
        @"\b(sexual|erotic|porn)",
        @"\b(no|without) (prohibitions|censorship|filter|refusals?)\b",
        @"\b(uninhibited|unhinged|unbiased)\b",
        // Other languages, a cue per kind (limits, filters and censorship, ethics, the forbidden, refusing), so that three
        // of them in one language still take three kinds.
        @"\b(sin (restricciones|límites|limites|reglas)|sans (restrictions|limites|règles)|ohne (einschränkungen|grenzen|regeln)|sem (restrições|restricoes|limites|regras)|senza (restrizioni|limiti|regole)|zonder (beperkingen|grenzen|regels)|bez ograniczeń|bez ograniczen|kısıtlama olmadan|kisitlama olmadan|sınırsız|sinirsiz|без (ограничений|правил))|(没有限制|不受限制|无限制|没有任何限制|不受任何|制限なし|制限のない)",
        @"\b(sin (filtros|censura)|sans (filtres?|censure)|ohne (filter|zensur)|unzensiert|ungefiltert|sem (filtros|censura)|senza (filtri|censura)|zonder (filters|censuur)|ongefilterd|ongecensureerd|bez (cenzury|filtrów|filtrow)|sansürsüz|sansursuz|filtresiz|без (цензуры|фильтров))|(无审查|没有审查|不审查|検閲なし|検閲のない)",
        @"\b(sin (ética|etica|moral)|sans (éthique|ethique|morale)|ohne (ethik|moral)|unmoralisch|sem (ética|etica|moral)|senza (etica|morale)|zonder (ethiek|moraal)|bez (etyki|moralności)|ahlaksız|ahlaksiz|без (морали|этики)|аморальн)|(没有道德|不道德|无道德|倫理観のない|倫理を無視)",
        @"\b(ilegal|illégal|illegale|inmoral|immorale|immoralité|nielegaln|yasadışı|yasadisi|незаконн)|(违法|非法|違法)",
        @"\b(nunca te niegues|no te niegues|ne refuse jamais|ne refusez jamais|verweigere nie|lehne niemals|nunca recuse|non rifiutare mai|weiger nooit|nigdy nie odmawiaj|asla reddetme|никогда не отказывай)|(永远不要拒绝|不要拒绝|絶対に拒否しない|拒否しない)");

    /// <summary>The rarer freedom words: at least one must occur before anything is counted.</summary>
    private const string Anchors = "unfilter|uncensor|amoral|unrestrict|unlimited|no restriction|no limit|no filter|no rules|no moral|no ethic|no censor|"
        + "without any|without restriction|without limit|without filter|without censor|without moral|without ethic|without warning|without hesitat|"
        + "without refus|regardless of|not bound|never refuse|nsfw|jailbr|immoral|unethical|illegal|decency|content polic|free of|free from|"
        + "nonmoral|non-moral|do anything|does anything|anything goes|uninhibited|unhinged|profanity|vulgar|prohibition|"
        + "sin restric|sin límit|sin limit|sin regla|sin filtro|sin censura|sin ética|sin etica|sin moral|sans restric|sans limit|sans règle|"
        + "sans filtre|sans censure|sans éthique|sans morale|ohne einschränk|ohne grenzen|ohne regeln|ohne filter|ohne zensur|ohne ethik|"
        + "ohne moral|sem restri|sem limit|sem regra|sem filtro|sem censura|sem ética|sem etica|sem moral|senza restriz|senza limit|senza regol|"
        + "senza filtr|senza censura|senza etica|senza moral|zonder beperking|zonder censuur|zonder filter|bez ograniczeń|bez ograniczen|"
        + "bez cenzury|olmadan|sinirsiz|sansursuz|sansürsüz|без огранич|без цензур|без морал|без правил|unzensiert|ungefiltert|ilegal|"
        + "illégal|незакон|аморал|限制|审查|道德|违法|非法|制限|検閲|違法";

    /// <summary>Whether a view sets up a persona, and how many distinct freedom cues it holds (counting stops at <paramref name="limit"/>).</summary>
    public static (bool Persona, int Freedom) Count(ReadOnlySpan<char> view, int limit = int.MaxValue)
    {
        if (!SafeIsMatch(AnyPersona, view))
        {
            return (false, 0);
        }

        // One linear pass finds every freedom phrase; each found phrase is then named by the single cue that matches it
        // (on the phrase alone, which is short), and a cue counts once however often it occurs.
        Span<bool> seen = stackalloc bool[FreedomCues.Length];
        var count = 0;
        try
        {
            for (var chunk = 0; chunk < AnyFreedom.Length; chunk++)
            {
                foreach (var match in AnyFreedom[chunk].EnumerateMatches(view))
                {
                    var phrase = view.Slice(match.Index, match.Length);
                    for (var cue = chunk * ChunkSize; cue < Math.Min(FreedomCues.Length, (chunk + 1) * ChunkSize); cue++)
                    {
                        if (!FreedomCues[cue].IsMatch(phrase))
                        {
                            continue;
                        }

                        if (!seen[cue])
                        {
                            seen[cue] = true;
                            if (++count >= limit)
                            {
                                return (true, count);
                            }
                        }

                        break;
                    }
                }
            }
        }
        catch (RegexMatchTimeoutException)
        {
            // A pathological input counts what was seen so far.
        }

        return (true, count);
    }

    /// <summary>Every persona cue in one automaton: a single linear pass decides whether there is one.</summary>
    private static readonly Regex AnyPersona = new(
        string.Join('|', Persona.Select(p => $"(?:{p})")), RegexOptions.CultureInvariant | RegexOptions.NonBacktracking, InjectionRules.MatchTimeout);

    /// <summary>Freedom cues per automaton: the whole list in one would exceed the engine's size limit.</summary>
    private const int ChunkSize = 12;

    /// <summary>The freedom cues as a few automata, to find the phrases in a few linear passes.</summary>
    private static readonly Regex[] AnyFreedom = [.. Freedom.Chunk(ChunkSize).Select(chunk => new Regex(
        string.Join('|', chunk.Select(p => $"(?:{p})")), RegexOptions.CultureInvariant | RegexOptions.NonBacktracking, InjectionRules.MatchTimeout))];

    /// <summary>Each freedom cue alone, anchored to the whole phrase found, to tell which cue a phrase is.</summary>
    private static readonly Regex[] FreedomCues = [.. Freedom.Select(p => new Regex($"^(?:{p})$", RegexOptions.CultureInvariant | RegexOptions.Compiled, InjectionRules.MatchTimeout))];

    /// <summary>The rule: a persona and at least <see cref="StrongCount"/> distinct freedom cues (declared after the patterns it uses).</summary>
    public static IReadOnlyList<InjectionRule> Rules { get; } = CreateRules();


    private static InjectionRule[] CreateRules()
        =>
        [
            // The pattern states the gate (a persona); the matcher is the rule: it counts the distinct freedom cues.
            new InjectionRule("jailbreak.persona-template", InjectionRules.Jailbreak, 0.6, AnyPersona)
            {
                Anchors = Anchors.Split('|'),
                WholeText = true,
                Matcher = view => Count(view, StrongCount).Freedom >= StrongCount,
            },
        ];

    private static bool SafeIsMatch(Regex regex, ReadOnlySpan<char> text)
    {
        try
        {
            return regex.IsMatch(text);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }

    private static string[] Cues(params string[] patterns) => patterns;
}
