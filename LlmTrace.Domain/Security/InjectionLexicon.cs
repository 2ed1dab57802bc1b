using System.Text;
using System.Text.RegularExpressions;

namespace LlmTrace.Domain.Security;

/// <summary>
/// Instruction overrides and system-prompt extraction in many languages, as vocabulary rather than sentences: an
/// override is a verb ("ignore", "vergiss", "忽略"), a word for what came before ("previous", "alle", "之前") and a word
/// for instructions ("rules", "Anweisungen", "指令") within a short span of one sentence, in any of the orders languages
/// put them in. Words from different languages combine, so a new phrasing or a mixed-language attack still matches,
/// and a language is added by adding its words. English has its own, finer rules in <see cref="InjectionRules"/>.
/// </summary>
/// <remarks>
/// Words are matched as stems after a non-letter (inflections follow freely: "instrukcji", "talimatlarini"); stems of
/// three letters or fewer must also end at a non-letter. Text is normalised first (<see cref="TextNormalizer"/>), so
/// Turkish dotless ı appears as i and every word is lower-case.
/// </remarks>
internal static class InjectionLexicon
{
    /// <summary>"Ignore", "forget", "disregard" and their kin.</summary>
    public static IReadOnlyList<string> OverrideVerbs { get; } =
    [
        // Spanish, Portuguese, Italian, French, Romanian, Catalan
        "ignora", "ignore", "ignorar", "ignoren", "olvida", "olvide", "olvidar", "descarta", "descarte", "omite", "omita",
        "pasa por alto", "haz caso omiso", "no hagas caso", "desatiende", "esqueça", "esqueca", "esquece", "desconsidere",
        "desconsidera", "despreze", "dimentica", "dimenticate", "dimentichi", "trascura", "tralascia", "scarta",
        "non considerare", "oublie", "ignorez", "ne tiens pas compte", "ne tenez pas compte", "fais abstraction",
        "faites abstraction", "écarte", "ecarte", "néglige", "négligez", "ignoră", "ignorați", "uită", "uitați", "oblida",
        // Germanic
        "ignorier", "vergiss", "vergessen sie", "missachte", "verwirf", "übergehe", "beachte nicht", "negeer", "vergeet",
        "ignorera", "glöm", "bortse från", "strunta i", "ignorer", "glem", "se bort fra",
        // Slavic, Baltic, Hungarian, Finnish, Greek
        "zignoruj", "ignoruj", "zapomnij", "pomiń", "odrzuć", "zapomeň", "zapomen", "zabudni", "игнорируй", "игнорируйте",
        "проигнорируй", "забудь", "не обращай внимания", "не обращайте внимания", "пренебреги", "отбрось", "не следуй",
        "ігноруй", "проігноруй", "забудьте", "ignorēt", "pamiršk", "hagyd figyelmen kívül", "felejtsd el", "ohita",
        "unohda", "jätä huomiotta", "αγνόησε", "αγνοήστε", "ξέχασε", "ξεχάστε",
        // Turkish (after folding ı → i), Indonesian and Malay, Vietnamese, Tagalog, Swahili
        "yok say", "yoksay", "görmezden gel", "gormezden gel", "unut", "dikkate alma", "göz ardi et", "goz ardi et",
        "abaikan", "lupakan", "hiraukan", "bỏ qua", "quên", "phớt lờ", "huwag pansinin", "kalimutan", "puuza", "sahau",
        // Arabic, Hebrew, Persian, Urdu, Hindi, Bengali
        "تجاهل", "انس", "أهمل", "اهمل", "התעלם", "שכח", "תשכח", "نادیده بگیر", "فراموش کن", "نظر انداز", "अनदेखा",
        "नज़रअंदाज़", "नजरअंदाज", "भूल जा", "উপেক্ষা",
        // Chinese, Japanese, Korean, Thai
        "忽略", "无视", "無視", "忽视", "忽視", "忘记", "忘記", "忘掉", "不要理会", "跳过", "抛开", "不用管", "别管", "不要管", "不用理会", "不必理会", "忘れ", "破棄", "무시", "잊어",
        "เพิกเฉย", "ไม่สนใจ", "ลืม",
        // Colloquial and romanised forms: Italian, Hebrew future forms, Hinglish, Swahili plural, Ukrainian, Czech
        "lascia perdere", "lasciate perdere", "non tenere conto", "תתעלם", "התעלמ", "bhool ja", "bhul ja", "puuzeni", "не зважай",
        "відкинь", "ignorujte", "nevšímej si",
        // Cancel, override, set aside, bypass, let go: German split verbs, Dutch, Polish, Czech, Romanian, Nordic, South
        // Slavic, Greek, Turkish, Egyptian Arabic, Bengali, Tamil, colloquial Indonesian
        "beiseite", "schenk geen aandacht", "geen aandacht meer", "anuluj", "zahoď", "zahod", "zruš",
        "suprascrie", "anulează", "overstyr", "tilsidesæt", "tilsidesett", "åsidosätt", "zaboravi", "zanemari", "ignoriši",
        "παράκαμψε", "παράβλεψε", "boş ver", "bos ver", "es geç", "انسى", "تخطى", "ভুলে যাও", "ভুলে যান", "உதாசீனப்படுத்து",
        "புறக்கணி", "மற", "lupain", "lupakan aja", "ikalimutan",
    ];

    /// <summary>"Previous", "above", "all" and their kin: what makes the instructions the application's, not the user's next ones.</summary>
    public static IReadOnlyList<string> PriorWords { get; } =
    [
        "anterior", "previa", "previo", "todas", "todos", "de arriba", "originales", "del sistema", "iniciales", "lo anterior",
        "précédent", "precedent", "antérieur", "toutes", "tous", "ci-dessus", "initiales", "d'origine", "du système",
        "ce qui précède", "acima", "originais", "prévias", "precedenti", "tutte", "tutti", "sopra", "originali", "iniziali",
        "vorherig", "bisherig", "obigen", "vorigen", "alle", "ursprünglich", "früher", "alles", "vorige", "eerdere",
        "bovenstaande", "voorgaande", "oorspronkelijke", "tidigare", "föregående", "ovanstående", "tidligere",
        "ovenstående", "poprzedni", "wcześniejsz", "wszystk", "powyższ", "předchozí", "predchozi", "všechny", "vsechny",
        "dřívější", "predošl", "anterioare", "toate", "precedente", "предыдущ", "все", "всё", "прежн", "прошл",
        "вышеуказанн", "исходн", "системн", "попередн", "всі", "усі", "korábbi", "összes", "előző", "aiemm", "kaikki",
        "edelli", "προηγούμεν", "όλες", "önceki", "onceki", "tüm", "tum", "bütün", "butun", "yukaridaki", "sebelumnya",
        "semua", "di atas", "trước đó", "tất cả", "السابقة", "جميع", "كل", "الأصلية", "הקודמ", "כל", "قبلی", "همه",
        "تمام", "پچھلی", "پچھلے", "पिछल", "सभी", "पूर्व", "আগের", "সব", "以前", "之前", "以上", "前面", "上面", "先前",
        "所有", "全部", "上記", "これまで", "前の", "すべて", "全て", "이전", "모든", "위의", "앞의", "ก่อนหน้า", "ทั้งหมด",
        "hiervoor", "eerder", "voorafgaande", "pichl", "saare", "yote", "awali", "zilizopita", "קודם", "המקורי", "پیشین",
        // "given to you", "set for you": what makes the instructions the application's, said as a participle
        "t'a données", "t'a donné", "qu'on t'a", "vorgegeben", "gegeben hat", "gekregen", "dostałeś", "dostalas", "nastaven",
        "zadat", "zadan", "δοθεί", "δώσει", "verilen", "dikasih", "diberikan", "ibinigay", "configurato", "impostato",
        "sämtlich", "te dieron", "te han dado", "te deram", "foram dadas", "dotychczasow", "inițial", "kezdeti", "ранее",
        "раніше", "আগে", "முன்பு", "tadi", "قبل كده", "اتقالك", "初始", "开发者给你", "開發者給你",
    ];

    /// <summary>"Instructions", "rules", "prompt" and their kin.</summary>
    public static IReadOnlyList<string> InstructionNouns { get; } =
    [
        "instrucciones", "indicaciones", "reglas", "órdenes", "ordenes", "directrices", "restricciones", "instruções",
        "instrucoes", "regras", "ordens", "diretrizes", "restrições", "istruzioni", "regole", "direttive", "consignes",
        "règles", "regles", "directives", "instructions", "instrucțiun", "instructiun", "regulile", "indicațiile",
        "instruccions", "anweisung", "instruktion", "regeln", "befehle", "vorgaben", "richtlinien", "einschränkungen",
        "instructies", "regels", "richtlijnen", "opdrachten", "aanwijzingen", "instruktioner", "instruksjoner",
        "instrukser", "regler", "anvisningar", "instrukcj", "polece", "zasad", "reguł", "wytyczn", "pokyn", "instrukc",
        "pravidl", "příkaz", "инструкци", "указани", "правил", "команд", "директив", "промпт", "ограничени", "установк",
        "інструкці", "вказівк", "utasítás", "szabály", "ohjee", "ohjeit", "sääntö", "οδηγίες", "κανόνες", "εντολές",
        "talimat", "kurallar", "yönerge", "yonerge", "komutlar", "instruksi", "perintah", "aturan", "petunjuk",
        "hướng dẫn", "chỉ dẫn", "chỉ thị", "quy tắc", "lệnh", "التعليمات", "تعليمات", "الأوامر", "القواعد", "الإرشادات",
        "הוראות", "ההוראות", "הנחיות", "ההנחיות", "הכללים", "دستورالعمل", "دستورات", "قوانین", "ہدایات", "निर्देश",
        "नियम", "आदेश", "নির্দেশ", "指令", "指示", "说明", "說明", "规则", "規則", "提示", "命令", "要求", "设定", "設定",
        "ルール", "プロンプト", "지시", "지침", "명령", "규칙", "프롬프트", "คำสั่ง", "คำแนะนำ", "กฎ",
        "maagizo", "maelekezo", "sheria", "opgedragen", "hidayat", "nirdesh",
        "linee guida", "ustawienia", "ograniczenia", "pravila", "upute", "uputstva", "innstillinger", "indstillinger",
        "inställningar", "قواعد", "الكلام", "নিয়ম", "বিধি", "வழிமுறை", "விதி", "patakaran", "tagubilin", "programarea",
        "programación", "programmazione", "programmierung", "beperkingen", "begrænsninger", "begränsningar", "omezení",
        "restricții", "kısıtlama", "περιορισμ", "ограничени", "обмеженн",
    ];

    /// <summary>"Show", "reveal", "print" and their kin.</summary>
    public static IReadOnlyList<string> RevealVerbs { get; } =
    [
        "muestra", "revela", "dime", "imprime", "montre", "affiche", "révèle", "zeig", "verrate", "gib ", "mostr", "revel",
        "rivela", "dimmi", "toon", "laat zien", "geef", "visa", "vis ", "pokaż", "pokaz", "podaj", "ujawnij", "wypisz",
        "ukaž", "ukaz", "vypiš", "arată", "arata", "покажи", "выведи", "раскрой", "напиши", "повтори", "покажіть",
        "mutasd", "näytä", "δείξε", "göster", "goster", "yaz", "tampilkan", "tunjukkan", "berikan", "ungkapkan",
        "hiển thị", "cho tôi xem", "tiết lộ", "اكشف", "أظهر", "اعرض", "הצג", "תראה", "نشان بده", "بگو", "दिखा", "बता",
        "显示", "顯示", "输出", "輸出", "告诉我", "告訴我", "打印", "透露", "泄露", "表示", "教えて", "出力", "見せて", "보여",
        "알려", "출력", "แสดง", "บอก",
        "recopie", "répète", "repete", "réécris", "niambie", "nionyeshe", "andika", "כתוב", "תכתוב", "بنویس", "พิมพ์", "batao",
        "dikhao",
    ];

    /// <summary>"System prompt" and its kin.</summary>
    public static IReadOnlyList<string> SystemPromptNouns { get; } =
    [
        "system prompt", "systemprompt", "system-prompt", "prompt del sistema", "prompt de sistema", "prompt système",
        "prompt systeme", "systemanweisung", "systemnachricht", "prompt do sistema", "prompt di sistema", "systeemprompt",
        "systeeminstructies", "prompt systemow", "promptu systemow", "systémový prompt", "systemovy prompt",
        "promptul de sistem", "системный промпт", "системного промпта", "системные инструкции", "системное сообщение",
        "системний промпт", "rendszerprompt", "järjestelmäkehote", "sistem istem", "sistem komut", "prompt sistem",
        "lời nhắc hệ thống", "موجه النظام", "تعليمات النظام", "הנחיית המערכת", "پرامپت سیستم", "सिस्टम प्रॉम्प्ट",
        "系统提示", "系統提示", "系统指令", "初始指令", "システムプロンプト", "システムメッセージ", "시스템 프롬프트",
        "พรอมต์ระบบ",
        "message système", "message systeme", "message du système", "messaggio di sistema", "mensaje del sistema",
        "mensagem do sistema", "systeembericht", "maelekezo ya mfumo", "ujumbe wa mfumo", "پیام سیستمی", "ข้อความระบบ",
        "הודעת המערכת", "ההנחיות המקוריות", "رسالة النظام", "सिस्टम संदेश", "システム指示",
    ];

    private const string Gap = @"[^.\n。！？!?;]";

    public static IReadOnlyList<InjectionRule> Rules { get; } = Build();

    private static IReadOnlyList<InjectionRule> Build()
    {
        var verbWords = Normalized(OverrideVerbs);
        var systemPromptWords = Normalized(SystemPromptNouns);
        var verbs = new TermGroup(verbWords);
        var prior = new TermGroup(Normalized(PriorWords));
        var nouns = new TermGroup(Normalized(InstructionNouns));
        var reveal = new TermGroup(Normalized(RevealVerbs));
        var systemPrompt = new TermGroup(systemPromptWords);

        // The regexes state each rule (and a test holds the matchers to them); the matchers run on requests, because a
        // regex that opens with hundreds of alternatives tries every one of them at every position of the text.
        return
        [
            // Verb first ("ignora todas las instrucciones anteriores"), or last ("önceki tüm talimatlari yok say",
            // "以前の指示を無視", Persian "دستورالعمل‌های قبلی را نادیده بگیر"); what came before may stand before or after the noun.
            new InjectionRule("override.lexicon", InjectionRules.Injection, 0.85, new Regex(
                $"{verbs.Pattern}{Gap}{{0,40}}?{prior.Pattern}{Gap}{{0,30}}?{nouns.Pattern}|{verbs.Pattern}{Gap}{{0,40}}?{nouns.Pattern}{Gap}{{0,25}}?{prior.Pattern}|{prior.Pattern}{Gap}{{0,30}}?{nouns.Pattern}{Gap}{{0,30}}?{verbs.Pattern}|{nouns.Pattern}{Gap}{{0,25}}?{prior.Pattern}{Gap}{{0,30}}?{verbs.Pattern}",
                RegexOptions.CultureInvariant, InjectionRules.MatchTimeout))
            {
                Anchors = Anchors(verbWords),
                Matcher = text =>
                {
                    var v = verbs.Find(text);
                    if (v.Count == 0)
                    {
                        return false;
                    }

                    var p = prior.Find(text);
                    var n = nouns.Find(text);
                    return Chain(text, v, 40, p, 30, n) || Chain(text, v, 40, n, 25, p) || Chain(text, p, 30, n, 30, v)
                        || Chain(text, n, 25, p, 30, v);
                },
            },
            new InjectionRule("extract.lexicon", InjectionRules.Extraction, 0.85, new Regex(
                $"{reveal.Pattern}{Gap}{{0,40}}?{systemPrompt.Pattern}|{systemPrompt.Pattern}{Gap}{{0,40}}?{reveal.Pattern}",
                RegexOptions.CultureInvariant, InjectionRules.MatchTimeout))
            {
                Anchors = Anchors(systemPromptWords),
                Matcher = text =>
                {
                    var s = systemPrompt.Find(text);
                    if (s.Count == 0)
                    {
                        return false;
                    }

                    var r = reveal.Find(text);
                    return Pair(text, r, 40, s) || Pair(text, s, 40, r);
                },
            },
        ];
    }

    /// <summary>Some a, then some b at most <paramref name="gap1"/> later, then some c at most <paramref name="gap2"/> after b, all in one sentence.</summary>
    private static bool Chain(
        ReadOnlySpan<char> text, List<(int Start, int End)> a, int gap1, List<(int Start, int End)> b, int gap2, List<(int Start, int End)> c)
    {
        foreach (var first in a)
        {
            // The lists are in text order, so only the few places within the gap are looked at: linear in the text.
            for (var i = FirstAtOrAfter(b, first.End); i < b.Count && b[i].Start - first.End <= gap1; i++)
            {
                if (Follows(text, first, b[i], gap1))
                {
                    for (var j = FirstAtOrAfter(c, b[i].End); j < c.Count && c[j].Start - b[i].End <= gap2; j++)
                    {
                        if (Follows(text, b[i], c[j], gap2))
                        {
                            return true;
                        }
                    }
                }
            }
        }

        return false;
    }

    private static bool Pair(ReadOnlySpan<char> text, List<(int Start, int End)> a, int gap, List<(int Start, int End)> b)
    {
        foreach (var first in a)
        {
            for (var i = FirstAtOrAfter(b, first.End); i < b.Count && b[i].Start - first.End <= gap; i++)
            {
                if (Follows(text, first, b[i], gap))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static int FirstAtOrAfter(List<(int Start, int End)> places, int position)
    {
        int low = 0, high = places.Count;
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            if (places[middle].Start < position)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    private static readonly System.Buffers.SearchValues<char> SentenceEnds = System.Buffers.SearchValues.Create(".\n。！？!?;");

    private static bool Follows(ReadOnlySpan<char> text, (int Start, int End) first, (int Start, int End) second, int gap)
        => second.Start >= first.End && second.Start - first.End <= gap && !text[first.End..second.Start].ContainsAny(SentenceEnds);

    /// <summary>One group of stems, found by a vectorised multi-string search and checked at word edges.</summary>
    private sealed class TermGroup
    {
        private readonly System.Buffers.SearchValues<string> _search;
        private readonly Dictionary<char, (string Stem, bool Unspaced, bool WholeWord)[]> _byFirst;

        public TermGroup(IEnumerable<string> words)
        {
            var terms = words.Distinct(StringComparer.Ordinal)
                .Select(w => (Stem: w.Trim(), Unspaced: IsUnspacedScript(w.Trim()[0]), WholeWord: w.Trim().Length <= 3 || w.EndsWith(' ')))
                .OrderByDescending(t => t.Stem.Length)
                .ToArray();
            _search = System.Buffers.SearchValues.Create([.. terms.Select(t => t.Stem).Distinct(StringComparer.Ordinal)], StringComparison.Ordinal);
            _byFirst = terms.GroupBy(t => t.Stem[0]).ToDictionary(g => g.Key, g => g.ToArray());
            Pattern = Alternation(words);
        }

        /// <summary>The same group as a regex fragment, for the rule's statement.</summary>
        public string Pattern { get; }

        /// <summary>Every place a stem of the group stands (after a non-letter; short stems also before one).</summary>
        public List<(int Start, int End)> Find(ReadOnlySpan<char> text)
        {
            var found = new List<(int Start, int End)>();
            var offset = 0;
            while (offset < text.Length && text[offset..].IndexOfAny(_search) is var index and >= 0)
            {
                var at = offset + index;
                foreach (var (stem, unspaced, wholeWord) in _byFirst[text[at]])
                {
                    var end = at + stem.Length;
                    if (text[at..].StartsWith(stem, StringComparison.Ordinal)
                        && (unspaced || StartsWord(text, at))
                        && (unspaced || !wholeWord || end == text.Length || !char.IsLetter(text[end])))
                    {
                        found.Add((at, end));
                        break;
                    }
                }

                offset = at + 1;
            }

            return found;
        }
    }

    /// <summary>
    /// One group of stems: each after a non-letter; short stems also before one. CJK and Thai have no spaces between
    /// words, so their stems stand anywhere.
    /// </summary>
    private static string Alternation(IEnumerable<string> words)
    {
        var builder = new StringBuilder("(?:");
        var first = true;
        foreach (var word in words.Distinct(StringComparer.Ordinal).OrderByDescending(w => w.Length))
        {
            builder.Append(first ? string.Empty : "|");
            first = false;
            var stem = word.Trim();
            var unspaced = IsUnspacedScript(stem[0]);
            builder.Append(unspaced ? string.Empty : TakesProclitics(stem[0]) ? $@"(?<=(?:^|\P{{L}})[{Proclitics}]{{0,2}})" : @"(?<!\p{L})");
            builder.Append(Regex.Escape(stem));
            if (!unspaced && (stem.Length <= 3 || word.EndsWith(' ')))
            {
                builder.Append(@"(?!\p{L})");
            }
        }

        return builder.Append(')').ToString();
    }

    private static bool IsUnspacedScript(char c)
        => c is >= '\u3040' and <= '\u30FF' or >= '\u3400' and <= '\u9FFF' or >= '\uAC00' and <= '\uD7AF' or >= '\u0E00' and <= '\u0E7F';

    /// <summary>
    /// Each word as written and as <see cref="TextNormalizer.Normalize"/> leaves it, since the rules read normalised
    /// views: NFKC takes Thai "ำ" apart, for one, so "คำสั่ง" as written would never be found in them.
    /// </summary>
    private static string[] Normalized(IEnumerable<string> words)
        => [.. words.SelectMany(w => new[] { w, TextNormalizer.Normalize(w.Trim()) + (w.EndsWith(' ') ? " " : string.Empty) })
            .Distinct(StringComparer.Ordinal)];

    /// <summary>
    /// Hebrew and Arabic write "and", "the", "from", "to", "in" as letters joined to the next word ("מכל", "ההוראות",
    /// "والتعليمات"): up to two of them may stand between the word's edge and a stem of those scripts.
    /// </summary>
    private const string Proclitics = "והמבלשכوفبلك";

    private static bool IsProclitic(char c) => Proclitics.Contains(c, StringComparison.Ordinal);

    private static bool TakesProclitics(char first) => first is >= '\u05D0' and <= '\u05EA' or >= '\u0620' and <= '\u064A' or >= '\u066E' and <= '\u06FF';

    /// <summary>Whether a stem starting at <paramref name="at"/> starts a word, after at most two proclitics where its script has them.</summary>
    private static bool StartsWord(ReadOnlySpan<char> text, int at)
    {
        if (at == 0 || !char.IsLetter(text[at - 1]))
        {
            return true;
        }

        if (!TakesProclitics(text[at]))
        {
            return false;
        }

        for (var i = at - 1; i >= 0 && at - i <= 2 && IsProclitic(text[i]); i--)
        {
            if (i == 0 || !char.IsLetter(text[i - 1]))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The rule runs only when one of these occurs; the anchor search is by substring, so stems serve.</summary>
    private static IReadOnlyList<string> Anchors(IEnumerable<string> words)
        => [.. words.Select(w => w.Trim()).Distinct(StringComparer.Ordinal)];
}
