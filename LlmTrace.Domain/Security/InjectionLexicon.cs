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
    /// <summary>
    /// The bulk of the vocabulary, by concept and language (an embedded JSON file, so a language is added without code);
    /// loaded first, since the word lists below include it.
    /// </summary>
    private static readonly Dictionary<string, Dictionary<string, string[]>> Vocabulary = LoadVocabulary();

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
        // Reflexive, accented and idiomatic forms: "olvídate de", "deja de lado", "lasă deoparte", "achana na", "side mein
        // rakh", "내려놓", "عرض الحائط", Hinglish and Taglish with English verbs, Turkish "iptal", Indonesian "dicabut"
        "olvíd", "olvid", "deja de lado", "dejá de lado", "hazte a un lado de", "esquece", "esqueça", "deixa de lado", "deixe de lado",
        "mets de côté", "laisse tomber", "laissez tomber", "oubliez", "metti da parte", "lass beiseite", "vergiss", "leg beiseite",
        "zet opzij", "laat varen", "vergeet", "lasă deoparte", "lasa deoparte", "uitați", "uita de", "odłóż", "zapomeňte", "pusť z hlavy",
        "отложи", "забей на", "відклади", "забудь про", "achana na", "weka kando", "side mein rakh", "bhool jao", "bhul jao",
        "नज़रअंदाज़ कर", "भूल जाओ", "भूल जाइए", "내려놓", "잊어버", "무시해", "عرض الحائط", "تجاهلي", "انسَ", "iptal", "geçersiz say",
        "dicabut", "cabut", "abaikan saja", "i-disregard", "i-ignore", "kalimutan mo", "kalimutan na", "wag mo nang sundin",
        "bỏ qua hết", "gác lại", "ละเลย", "ไม่ต้องสนใจ", "放下", "不要理", "忘了",
        "置いといて", "無視して", "忘れて", "αγνόησε", "ξέχνα", "παράβλεψε", "zaboravi na", "ostavi po strani", "unohda", "felejtsd",
        "tilsidesæt", "glem alt", "glöm bort", "sätt åt sidan", "legg til side", "lägg åt sidan",
        // Declared no longer valid: "ya no son válidas", "gelten nicht mehr", "artık geçerli değil", "不再有效"
        "ya no son válid", "ya no son valid", "ya no aplican", "ya no valen", "ne sont plus valables", "ne s'appliquent plus",
        "gelten nicht mehr", "nicht mehr gültig", "niet meer geldig", "gelden niet meer", "non sono più valid", "non valgono più",
        "não valem mais", "não são mais válid", "nao valem mais", "nu mai sunt valabile", "nie obowiązują", "już nie obowiązują",
        "už neplatí", "больше не действуют", "больше не действительн", "більше не діють", "artık geçerli değil", "artik gecerli degil",
        "لم تعد سارية", "لم تعد صالحة", "כבר לא בתוקף", "دیگر معتبر نیست", "अब मान्य नहीं", "আর বৈধ নয়", "tidak berlaku lagi",
        "sudah tidak berlaku", "không còn hiệu lực", "wala nang bisa", "hazitumiki tena", "不再有效", "已失效", "作废", "作廢", "もう無効",
        "無効になりました", "더 이상 유효하지", "ไม่มีผลแล้ว", "δεν ισχύουν πλέον", "már nem érvényes", "eivät ole enää voimassa",
        .. Words("overrideVerbs"),
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
        .. Words("priorWords"),
    ];

    /// <summary>
    /// Where instructions came from, which makes them the application's: "given to you", "that you received", "set for
    /// you", the operator, the developers, the company, and "hidden", "initial", "before our conversation began".
    /// </summary>
    public static IReadOnlyList<string> OwnedWords { get; } =
    [
        // Given to you, you received
        "te dieron", "te han dado", "te pusieron", "que te puso", "que te dio", "que recibiste", "te indicaron", "te dijeron",
        "te configuraron", "qu'on t'a", "qu'on vous a", "que tu as reçu", "que vous avez reçu", "t'ont été donn", "vous ont été donn",
        "die man dir", "die du bekommen", "die du erhalten", "dir gegeben", "dir vorgegeben", "ihnen vorgegeben", "die je kreeg",
        "die je hebt gekregen", "die je gekregen", "die jou", "som du fick", "du har fått", "du fik", "du har fått", "che ti hanno dato",
        "che ti sono state date", "che hai ricevuto", "que te deram", "que você recebeu", "que voce recebeu", "que recebeste", "que te passaram",
        "ți le-a dat", "ti le-a dat", "care ți-au fost date", "pe care le-ai primit", "które dostałeś", "które dostałaś", "które otrzymałeś",
        "które ci dano", "które ci", "które dostałeś", "které jsi dostal", "které ti dali", "které ti", "ktoré si dostal", "amit kaptál",
        "jotka sait", "jotka sinulle annettiin", "που σου έδωσαν", "που έλαβες", "που σου", "которые тебе дали", "которые ты получил",
        "тебе дали", "тебе задали", "які тобі дали", "які ти отримав", "тобі дали", "koje si dobio", "koje su ti dali", "които ти дадоха",
        "sana verilen", "verilen", "aldığın", "aldigin", "التي زودك", "التي زوّدك", "التي أعطيت لك", "المعطاة لك", "التي تلقيتها", "اللي اتقالك",
        "שקיבלת", "שנתנו לך", "שניתנו לך", "به تو داده", "به شما داده", "که دریافت کرد", "تمہیں دی", "آپ کو دی", "तुम्हें दिए", "तुम्हें दी",
        "आपको दिए", "आपको दी", "तुम्हें बताए", "তোমাকে দেওয়া", "আপনাকে দেওয়া", "দেওয়া হয়েছিল", "உனக்கு கொடுக்கப்பட்ட", "உங்களுக்கு கொடுக்கப்பட்ட",
        "yang diberikan kepadamu", "yang kamu terima", "diberikan padamu", "yang diberikan", "được giao cho bạn", "bạn đã nhận", "đã được đưa cho bạn",
        "binigay sayo", "binigay sa iyo", "ibinigay sa iyo", "ibinigay sayo", "uliyopewa", "ulizopewa", "ulipewa", "tumhe diye", "tumhare liye jo",
        "tumhe bataye", "给你的", "給你的", "你收到的", "你收到", "收到的", "被设定的", "与えられた", "受け取った", "渡された", "받은", "설정해 둔",
        "설정된", "주어진", "ที่ได้รับ", "ตั้งไว้ให้คุณ", "ที่ให้คุณ",
        // The operator, the developers, the company
        "operatora", "del operador", "tus desarrolladores", "tu desarrollador", "la empresa", "de l'opérateur", "de l'operateur",
        "tes développeurs", "vos développeurs", "vom betreiber", "deines betreibers", "deiner entwickler", "van de beheerder",
        "van je ontwikkelaars", "dell'operatore", "dei tuoi sviluppatori", "do operador", "dos seus desenvolvedores", "dos teus criadores",
        "od operatora", "twoich twórców", "provozovatele", "tvých vývojářů", "оператора", "разработчиков", "твоих создателей",
        "розробників", "оператора", "operatör", "geliştirici", "yönetici", "المشغل", "المشغّل", "المطور", "המפעיל", "המפתחים", "החברה",
        "اپراتور", "توسعه‌دهنده", "ऑपरेटर", "डेवलपर", "कंपनी ने", "অপারেটর", "ডেভেলপার", "pengembangmu", "pengembang", "nhà phát triển",
        "người vận hành", "运营者", "運營者", "开发者", "開發者", "运营方", "運営者", "開発者", "운영자", "개발자", "ผู้พัฒนา",
        "waliokuweka", "msimamizi", "company ne", "διαχειριστ",
        // Hidden, initial, before the conversation
        "ocult", "secretas", "secrètes", "iniciales", "originales", "antes de que yo", "antes de empezar", "cachée", "cachées", "initiales", "avant le début",
        "versteckt", "geheim", "anfänglich", "ursprünglich", "verborgen", "voordat ik", "nascost", "segret", "iniziali", "ocultas", "iniciais",
        "antes do início", "ascuns", "inițiale", "ukryt", "początkow", "skryt", "počáteční", "úvodní", "скрыт", "изначальн", "начальн",
        "прихован", "початков", "gizli", "başlangıç", "المخفية", "السرية", "الأولية", "המוסתרות", "הנסתרות", "ההתחלתיות", "مخفی", "اولیه",
        "پیش از شروع", "छिपे", "गुप्त", "शुरुआती", "গোপন", "শুরুতে", "প্রাথমিক", "tersembunyi", "rahasia", "awal percakapan", "ẩn", "bí mật",
        "ban đầu", "开始之前", "開始之前", "一开始", "最初の", "非公開", "처음에", "ตอนแรก", "zilizofichwa", "za siri", "κρυφ", "αρχικ", "rejtett", "kezdeti", "piilotet", "alkuperäi", "dolda", "skjulte",
        .. Words("ownedWords"),
    ];

    /// <summary>"Word for word", "verbatim", "unchanged": asking for a text exactly as it stands.</summary>
    public static IReadOnlyList<string> VerbatimWords { get; } =
    [
        "palabra por palabra", "textualmente", "literalmente", "tal cual", "al pie de la letra", "mot pour mot", "textuellement",
        "mot à mot", "wort für wort", "wörtlich", "wortwörtlich", "letterlijk", "woord voor woord", "ordagrant", "ord for ord", "ordret",
        "parola per parola", "testualmente", "alla lettera", "palavra por palavra", "literalmente", "cuvânt cu cuvânt", "cuvant cu cuvant",
        "słowo w słowo", "dosłownie", "slovo od slova", "doslova", "szó szerint", "sanasta sanaan", "λέξη προς λέξη", "αυτούσι", "дословно",
        "слово в слово", "дослівно", "doslovno", "kelimesi kelimesine", "aynen", "حرفيا", "حرفياً", "بالحرف", "מילה במילה", "כלשונו",
        "کلمه به کلمه", "لفظ بہ لفظ", "शब्दशः", "हूबहू", "শব্দে শব্দে", "হুবহু", "வார்த்தைக்கு வார்த்தை", "kata demi kata", "apa adanya",
        "từng chữ", "nguyên văn", "salita por salita", "neno kwa neno", "bila kubadilisha", "原封不动", "原封不動", "一字不差", "逐字", "原样",
        "原樣", "一字一句", "そのまま", "一字一句", "그대로", "한 글자도", "토씨 하나", "คำต่อคำ", "ทุกคำ", "word for word", "verbatim",
        .. Words("verbatimWords"),
    ];

    /// <summary>"Without any restrictions", "uncensored", "no rules": the model freed from its limits.</summary>
    public static IReadOnlyList<string> NoLimitsWords { get; } =
    [
        "sin restricciones", "sin ninguna restricción", "sin ningún filtro", "sin ningun filtro", "sin filtros", "sin censura", "sin límites",
        "sin limites", "sin reglas", "sin ninguna regla", "sin normas", "sans restriction", "sans aucune restriction", "sans filtre",
        "sans censure", "sans limites", "sans règles", "sans aucune règle", "ohne einschränkungen", "ohne jegliche einschränkung",
        "ohne zensur", "ohne regeln", "ohne grenzen", "unzensiert", "ungefiltert", "zonder beperkingen", "zonder censuur", "zonder regels",
        "zonder filters", "ongecensureerd", "senza restrizioni", "senza censura", "senza filtri", "senza regole", "senza limiti",
        "nessuno ha mai dato linee guida", "sem restrições", "sem nenhuma restrição", "sem restricoes", "sem nenhuma restricao", "sem censura",
        "sem filtros", "sem regras", "sem limites", "fără cenzură", "fara cenzura", "fără restricții", "fără reguli", "bez ograniczeń",
        "bez ograniczen", "bez cenzury", "bez filtrów", "bez zasad", "bez omezení", "bez cenzury", "bez pravidel", "без ограничений",
        "нет никаких ограничений", "без цензуры", "без правил", "без фильтров", "без обмежень", "без цензури", "без правил", "sınırsız",
        "kısıtlamasız", "sansürsüz", "kuralsız", "hiçbir kısıtlama", "بدون قيود", "بلا قيود", "بدون رقابة", "بدون أي قيود", "בלי שום כללים",
        "ללא הגבלות", "בלי הגבלות", "ללא צנזורה", "בלי צנזורה", "بدون محدودیت", "بدون سانسور", "بی‌قید", "بغیر کسی پابندی", "बिना किसी प्रतिबंध",
        "बिना रोक-टोक", "बिना सेंसर", "कोई नियम नहीं", "কোনো বিধিনিষেধ ছাড়া", "সেন্সর ছাড়া", "tanpa batasan", "tanpa sensor", "tanpa aturan",
        "tanpa filter", "không giới hạn", "không kiểm duyệt", "không có quy tắc", "walang limitasyon", "walang restrictions", "wala ka nang restrictions",
        "walang censorship", "usiye na mipaka", "bila mipaka", "bila vikwazo", "bila udhibiti", "没有任何限制", "沒有任何限制", "没有限制", "沒有限制",
        "没有任何审查", "沒有任何審查", "不受任何", "无审查", "無審查", "无限制", "無限制", "制限なし", "制限のない", "検閲なし", "検閲のない",
        "ルールのない", "제한 없는", "제한 없이", "검열 없는", "검열 없이", "규칙 없는", "ไม่มีข้อจำกัด", "ไม่มีการเซ็นเซอร์", "χωρίς περιορισμούς",
        "χωρίς φίλτρα", "χωρίς λογοκρισία", "korlátozások nélkül", "cenzúra nélkül", "ilman rajoituksia", "ilman sensuuria", "utan begränsningar",
        "utan censur", "uden begrænsninger", "uden censur", "uten begrensninger", "uten sensur", "bez ograničenja", "bez cenzure",
        "koi restriction nahi", "bina kisi restriction", "bina filter", "no rules", "sin filtro",
        .. Words("noLimitsWords"),
    ];

    /// <summary>"Never refuse", "without refusing", "without warnings": the model's caution taken away.</summary>
    public static IReadOnlyList<string> NeverRefuseWords { get; } =
    [
        "nunca te niegues", "no te niegues", "sin negarte", "nunca digas que no", "sin advertencias", "ne refuse jamais", "ne refusez jamais",
        "sans refuser", "sans avertissement", "verweigere nie", "lehne niemals", "ohne abzulehnen", "ohne warnungen", "weiger nooit",
        "zonder te weigeren", "zonder waarschuwingen", "non rifiutare mai", "non si tira mai indietro", "senza rifiutare", "senza avvertenze",
        "nunca recuse", "sem recusar", "sem avisos", "responda a tudo", "nu refuza niciodată", "fără avertismente", "nigdy nie odmawiaj",
        "niczego nie odmawiasz", "niczego nie odmawiaj", "bez ostrzeżeń", "nikdy neodmítej", "никогда не отказывай", "не отказывай",
        "без всяких предупреждений", "без предупреждений", "ніколи не відмовляй", "не відмовляй", "без попереджень", "asla reddetme",
        "geri çevirme", "uyarı yapmadan", "لا ترفض", "دون رفض", "بدون تحذيرات", "בלי לסרב", "לעולם אל תסרב", "בלי אזהרות", "هرگز رد نکن",
        "بدون هشدار", "कभी मना नहीं", "कभी इनकार नहीं", "बिना चेतावनी", "কখনো না বলবে না", "কখনও অস্বীকার", "tanpa menolak", "jangan menolak",
        "tanpa peringatan", "không từ chối", "đừng từ chối", "không cảnh báo", "huwag tumanggi", "walang pagtanggi", "usikatae", "bila kukataa",
        "bila onyo", "永远不会拒绝", "永遠不會拒絕", "不要拒绝", "不要拒絕", "不得拒绝", "决不拒绝", "絶対に断らない", "断らない", "拒否しない",
        "警告なし", "거절하지", "거부하지", "경고 없이", "ห้ามปฏิเสธ", "ไม่ปฏิเสธ", "μην αρνείσαι", "ποτέ μην αρνηθείς", "soha ne utasíts",
        "älä koskaan kieltäydy", "vägra aldrig", "afvis aldrig", "aldri nekt", "nikad ne odbijaj", "kabhi mana mat", "mana mat karna",
        .. Words("neverRefuseWords"),
    ];

    /// <summary>"From now on you are", "pretend to be", "act as": a persona set up for the model.</summary>
    public static IReadOnlyList<string> PersonaWords { get; } =
    [
        "a partir de ahora", "desde ahora", "de ahora en adelante", "finge que eres", "finge ser", "actúa como", "actua como", "como si fueras",
        "ahora eres", "eres ahora", "à partir de maintenant", "désormais", "dorénavant", "fais comme si", "faites comme si", "agis comme",
        "tu es maintenant", "ab jetzt", "von nun an", "ab sofort", "tu so, als", "tu so als", "du bist jetzt", "du bist nun", "vanaf nu",
        "doe alsof", "je bent nu", "da questo momento", "d'ora in poi", "da ora in poi", "fingi di essere", "fai finta", "ora sei", "comportati come",
        "a partir de agora", "finja ser", "finja que", "agora você é", "aja como", "de acum", "de acum înainte", "prefă-te", "poartă-te ca",
        "poarta-te ca", "od teraz", "udawaj", "jesteś teraz", "zachowuj się jak", "od teď", "předstírej", "jsi teď", "с этого момента",
        "отныне", "теперь ты", "представь, что ты", "представь что ты", "притворись", "з цього моменту", "відтепер", "тепер ти", "уяви, що ти",
        "bundan sonra", "şu andan itibaren", "gibi davran", "artık sen", "من الآن فصاعدا", "من الآن فصاعداً", "تظاهر", "أنت الآن", "מעכשיו",
        "מהרגע הזה", "תעמיד פנים", "אתה עכשיו", "אתה כבר לא", "از این به بعد", "وانمود کن", "तुम अब", "अब से", "अब से तुम", "नाटक करो",
        "এখন থেকে", "ভান কর", "mulai sekarang", "mulai saat ini", "berpura-puralah", "anggap dirimu", "từ bây giờ", "hãy giả vờ", "giả sử bạn là",
        "mula ngayon", "magpanggap", "kunwari ikaw", "sasa wewe ni", "kuanzia sasa", "jifanye", "从现在起", "從現在起", "从现在开始", "從現在開始",
        "你扮演", "扮演", "假装你是", "假裝你是", "你现在是", "你現在是", "今から", "これから", "ふりをして", "なりきって", "今からあなたは", "지금부터",
        "이제부터", "인 척", "역할을 해", "ตั้งแต่นี้ไป", "แกล้งทำเป็น", "από εδώ και πέρα", "από τώρα", "προσποιήσου", "mostantól", "tegyél úgy",
        "tästä lähtien", "esitä", "från och med nu", "låtsas", "fra nu af", "lad som om", "fra nå av", "late som", "od sada", "pretvaraj se",
        "ab se tum", "ab se aap", "from now on",
        .. Words("personaWords"),
    ];

    /// <summary>Words for an AI, an assistant, a model: what the persona replaces.</summary>
    public static IReadOnlyList<string> AiWords { get; } =
    [
        "ia", "una ia", "inteligencia artificial", "intelligence artificielle", "l'ia", "ki", "eine ki",
        "künstliche intelligenz", "kunstmatige intelligentie", "intelligenza artificiale", "inteligência artificial", "inteligenta artificiala",
        "sztuczna inteligencja", "umělá inteligence", "нейросеть", "нейросет", "ии", "искусственный интеллект", "штучний інтелект",
        "yapay zeka", "ذكاء اصطناعي", "الذكاء الاصطناعي", "בינה מלאכותית", "هوش مصنوعی", "एआई", "कृत्रिम बुद्धि", "কৃত্রিম বুদ্ধিমত্তা",
        "kecerdasan buatan", "trí tuệ nhân tạo", "人工智能", "人工智慧", "ＡＩ", "模型", "モデル", "인공지능", "ปัญญาประดิษฐ์", "τεχνητή νοημοσύνη",
        "mesterséges intelligencia", "tekoäly", "artificiell intelligens", "kunstig intelligens", "umjetna inteligencija", "akili bandia",
        "un model", "modelo", "modèle", "modello", "asistente", "assistant", "assistent", "assistente", "asystent", "asistent", "ассистент",
        "помощник", "асистент", "asistan", "مساعد", "עוזר", "دستیار", "सहायक", "সহকারী", "asisten", "trợ lý", "助手", "アシスタント",
        "어시스턴트", "비서", "ผู้ช่วย", "βοηθός", "msaidizi", "chatbot", "bot", "ai", "的ai", "ші", "ші-асистент",
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
        // Settings and configuration, guidelines and policies, as said of an assistant
        "configuración", "configuracion", "ajustes", "políticas", "configuration", "paramètres", "politiques", "konfiguration",
        "einstellungen", "configuratie", "instellingen", "richtlijn", "configurazione", "impostazioni", "configuração", "configuracao",
        "políticas", "setări", "setari", "wytyczn", "konfiguracj", "nastavení", "nastaveni", "настройк", "налаштуван", "конфигурац",
        "ayarlar", "yapılandırma", "الإعدادات", "التوجيهات", "الضوابط", "ההגדרות", "הגדרות", "הכללים", "כללים", "تنظیمات", "रूल्स",
        "सेटिंग", "निर्देशन", "निर्देशनা", "নির্দেশনা", "পরিচালনা", "pengaturan", "konfigurasi", "cài đặt", "thiết lập", "quy định",
        "mga instructions", "instructions", "rules", "mipangilio", "maagizo", "规范", "規範", "设定", "設定",
        "指示", "設定", "ガイドライン", "설정", "지침", "규정", "การตั้งค่า", "ข้อกำหนด", "ρυθμίσεις", "οδηγίες", "beállítás", "asetukse",
        "inställningar", "retningslinjer", "riktlinjer", "upute", "smjernice", "uputstva",
        // The text itself
        "texto", "texte", "testo", "tekst", "textu", "text ", "текст", "metin", "النص", "הטקסט", "متن", "पाठ", "টেক্সট", "teks",
        "văn bản", "文本", "文字", "テキスト", "문구", "텍스트", "ข้อความ", "κείμενο", "szöveg", "teksti", "maandishi",
        .. Words("instructionNouns"),
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
        "cópiame", "copiame", "copia", "escribe", "pega", "reproduce", "recopier", "recopiez", "écris", "kopiere", "schreib",
        "gib aus", "plak", "kopieer", "schrijf", "copia", "incolla", "riscrivi", "copie", "cole", "escreva", "copiază", "scrie",
        "skopiuj", "przepisz", "wklej", "vypiš", "dopiš", "napiš", "zkopíruj", "выведи", "скопируй", "продолжи", "перепиши", "виведи",
        "продовж", "скопіюй", "напиши", "kopyala", "yazdır", "اعرض", "تعرض", "انسخ", "اكتب", "הדפס", "העתק", "کپی کن", "نمایش بده",
        "लिखो", "दिखाओ", "कॉपी", "দেখাও", "লেখো", "কপি", "salin", "tuliskan", "tampilkan", "chép", "in ra", "viết ra", "isulat",
        "ipakita", "nakili", "输出", "写出", "复制", "列出", "貼", "書き出", "コピー", "보여", "출력", "적어", "써 줘", "복사", "คัดลอก",
        "δείξε", "γράψε", "αντίγραψε", "írd ki", "kirjoita", "skriv ut", "kopier", "ispiši", "napiši",
        // Continue it from the start
        "continúa", "continua", "continuez", "continue le", "fortsetzen", "setze fort", "schreib weiter", "ga verder", "schrijf verder",
        "prosegui", "continua a scrivere", "continue escrevendo", "kontynuuj", "pokračuj", "pokračovat", "продолжи", "продовжи",
        "devam et", "lanjutkan", "tiếp tục", "ituloy", "endelea", "继续", "繼續", "続けて", "계속", "ต่อจาก", "συνέχισε", "folytasd",
        "jatka", "fortsätt", "fortsæt", "fortsett", "nastavi",
        .. Words("revealVerbs"),
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

    /// <summary>
    /// "To" and "for" before a name, in the languages the lexicon reads (English has its own rules): what makes a label
    /// a note addressed to someone ("Catatan untuk AI:", "Aan de AI-assistent:", "致AI助手：", "Message pour l'assistant
    /// IA :"). Japanese and Korean put it after the name ("AIアシスタントへ：").
    /// </summary>
    public static IReadOnlyList<string> AddressWords { get; } =
    [
        "para", "para el", "para la", "para o", "para a", "pour", "pour l'", "à l'", "au", "aux", "an den", "an die", "an das",
        "für", "fuer", "aan", "aan de", "voor", "voor de", "alla", "all'", "al", "ao", "à", "dla", "pro", "için", "untuk",
        "kepada", "bagi", "gửi", "dành cho", "cho", "para sa", "kay", "kwa", "для", "до", "إلى", "الى", "אל", "עבור", "برای",
        "के लिए", "को", "এর জন্য", "致", "给", "給", "寄给", "提供给", "προς", "για", "számára", "för", "till", "til", "za",
    ];

    /// <summary>Postpositions that follow the name they address.</summary>
    private static readonly string[] AfterAddressWords = ["へ", "宛", "宛て", "에게", "께", "님께", "ถึง"];

    /// <summary>
    /// A note in handed-over content addressed to the AI in another language: a label of a few words that names the AI
    /// after a word for "to" or "for" (or before a postposition), then a colon. Weak alone (a user may address the
    /// assistant so); in a document or a tool's answer it counts.
    /// </summary>
    public static IReadOnlyList<InjectionRule> AddressedRules { get; } = BuildAddressed();

    private static IReadOnlyList<InjectionRule> BuildAddressed()
    {
        var addressWords = Normalized(AddressWords);
        var address = new TermGroup(addressWords);
        var after = new TermGroup(Normalized(AfterAddressWords));
        var ai = new TermGroup(Normalized(AiWords));
        var pattern = $"{address.Pattern}{Gap}{{0,30}}?{ai.Pattern}[^.\n。！？!?;:：]{{0,25}}[:：]|{ai.Pattern}\\s*{after.Pattern}\\s*[:：]";
        return
        [
            new InjectionRule("indirect.lexicon-addressed", InjectionRules.Indirect, 0.45, new Regex(pattern, RegexOptions.CultureInvariant, InjectionRules.MatchTimeout))
            {
                // The longer "to" words and the postpositions: two-letter ones ("al", "au", "za") stand inside too many words.
                Anchors = Anchors(addressWords.Concat(Normalized(AfterAddressWords)).Where(w => w.Trim().Length >= 3 || !System.Text.Ascii.IsValid(w))),
                Matcher = text =>
                {
                    var a = address.Find(text);
                    var p = after.Find(text);
                    if (a.Count == 0 && p.Count == 0)
                    {
                        return false;
                    }

                    foreach (var name in ai.FindNear(text, [.. a, .. p], 30 + ai.Longest))
                    {
                        foreach (var word in a)
                        {
                            if (Follows(text, word, name, 30) && ColonAfter(text, name.End, 25))
                            {
                                return true;
                            }
                        }

                        foreach (var word in p)
                        {
                            if (word.Start >= name.End && text[name.End..word.Start].IsWhiteSpace() && ColonAfter(text, word.End, 1))
                            {
                                return true;
                            }
                        }
                    }

                    return false;
                },
            },
        ];
    }

    /// <summary>A colon (or a full-width one) at most <paramref name="within"/> characters after <paramref name="from"/>, in the same sentence.</summary>
    private static bool ColonAfter(ReadOnlySpan<char> text, int from, int within)
    {
        var rest = text[from..Math.Min(text.Length, from + within + 1)];
        var colon = rest.IndexOfAny(':', '：');
        return colon >= 0 && !rest[..colon].ContainsAny(SentenceEnds);
    }

    private const string Gap = @"[^.\n。！？!?;]";

    public static IReadOnlyList<InjectionRule> Rules { get; } = Build();

    /// <summary>
    /// A jailbreak set up in other languages: the model freed from its limits or its caution ("sin ningún filtro", "bez
    /// cenzury", "永远不会拒绝"), together with a persona ("a partir de ahora", "представь, что ты") and a word for an AI, or
    /// with both kinds of freedom. Counted over the whole text, as <see cref="JailbreakCues"/> counts English templates; no
    /// one word of them is rare in ordinary prompts, three kinds together are.
    /// </summary>
    public static IReadOnlyList<InjectionRule> CountedRules { get; } = BuildCounted();

    private static IReadOnlyList<InjectionRule> BuildCounted()
    {
        var freedomWords = Normalized(NoLimitsWords.Concat(NeverRefuseWords));
        var noLimits = new TermGroup(Normalized(NoLimitsWords));
        var neverRefuse = new TermGroup(Normalized(NeverRefuseWords));
        var persona = new TermGroup(Normalized(PersonaWords));
        var ai = new TermGroup(Normalized(AiWords));
        return
        [
            new InjectionRule("jailbreak.lexicon", InjectionRules.Jailbreak, 0.7, new Regex(new TermGroup(freedomWords).Pattern, RegexOptions.CultureInvariant, InjectionRules.MatchTimeout))
            {
                Anchors = Anchors(freedomWords),
                WholeText = true,
                Matcher = text =>
                {
                    var kinds = (noLimits.Find(text).Count > 0 ? 1 : 0) + (neverRefuse.Find(text).Count > 0 ? 1 : 0);
                    return kinds > 0 && kinds + (persona.Find(text).Count > 0 ? 1 : 0) + (ai.Find(text).Count > 0 ? 1 : 0) >= 3;
                },
            },
        ];
    }

    private static IReadOnlyList<InjectionRule> Build()
    {
        var verbWords = Normalized(OverrideVerbs);
        var systemPromptWords = Normalized(SystemPromptNouns);
        var verbs = new TermGroup(verbWords);
        var prior = new TermGroup(Normalized(PriorWords.Concat(OwnedWords)));
        var ownedWords = Normalized(OwnedWords);
        var owned = new TermGroup(ownedWords);
        var ask = new TermGroup(Normalized(RevealVerbs.Concat(VerbatimWords)));
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

                    var p = prior.FindNear(text, v, 40 + 30 + prior.Longest + nouns.Longest);
                    var n = nouns.FindNear(text, v, 40 + 30 + prior.Longest + nouns.Longest);
                    return Chain(text, v, 40, p, 30, n) || Chain(text, v, 40, n, 25, p) || Chain(text, p, 30, n, 30, v)
                        || Chain(text, n, 25, p, 30, v);
                },
            },
            // What the application gave the assistant, asked for: a reveal verb (or "word for word"), a word that makes the
            // instructions the application's ("given to you", "hidden", "initial", the operator's) and an instruction noun,
            // in any of the orders languages put them in. Generic words for "all" or "previous" are not enough here: "show
            // me all the rules of chess" asks for nothing hidden.
            new InjectionRule("extract.lexicon-owned", InjectionRules.Extraction, 0.8, new Regex(
                $"{ask.Pattern}{Gap}{{0,40}}?{owned.Pattern}{Gap}{{0,30}}?{nouns.Pattern}|{ask.Pattern}{Gap}{{0,40}}?{nouns.Pattern}{Gap}{{0,30}}?{owned.Pattern}|{owned.Pattern}{Gap}{{0,30}}?{nouns.Pattern}{Gap}{{0,40}}?{ask.Pattern}|{nouns.Pattern}{Gap}{{0,30}}?{owned.Pattern}{Gap}{{0,40}}?{ask.Pattern}",
                RegexOptions.CultureInvariant, InjectionRules.MatchTimeout))
            {
                Anchors = Anchors(ownedWords),
                Matcher = text =>
                {
                    var o = owned.Find(text);
                    if (o.Count == 0)
                    {
                        return false;
                    }

                    var a = ask.FindNear(text, o, 30 + 40 + ask.Longest + nouns.Longest);
                    var n = nouns.FindNear(text, o, 30 + 40 + ask.Longest + nouns.Longest);
                    return Chain(text, a, 40, o, 30, n) || Chain(text, a, 40, n, 30, o) || Chain(text, o, 30, n, 40, a)
                        || Chain(text, n, 30, o, 40, a);
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

                    var r = reveal.FindNear(text, s, 40 + reveal.Longest);
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
            Longest = terms[0].Stem.Length;
            Pattern = Alternation(words);
        }

        /// <summary>The same group as a regex fragment, for the rule's statement.</summary>
        public string Pattern { get; }

        /// <summary>Every place a stem of the group stands (after a non-letter; short stems also before one).</summary>
        public List<(int Start, int End)> Find(ReadOnlySpan<char> text)
        {
            var found = new List<(int Start, int End)>();
            FindIn(text, 0, text.Length, found);
            return found;
        }

        /// <summary>The length of the group's longest stem.</summary>
        public int Longest { get; }

        /// <summary>
        /// The places of the group that start within <paramref name="reach"/> characters of some place in
        /// <paramref name="near"/>, in text order: a chain's other words are looked for only around the word that
        /// let its rule run, so a long text costs the neighbourhoods of its few anchor words, not a scan per group.
        /// </summary>
        public List<(int Start, int End)> FindNear(ReadOnlySpan<char> text, List<(int Start, int End)> near, int reach)
        {
            var found = new List<(int Start, int End)>();
            if (near.Count == 0)
            {
                return found;
            }

            near.Sort();
            var from = Math.Max(0, near[0].Start - reach);
            var to = Math.Min(text.Length, near[0].End + reach);
            foreach (var (start, end) in near)
            {
                if (start - reach > to)
                {
                    FindIn(text, from, to, found);
                    from = start - reach;
                }

                to = Math.Min(text.Length, Math.Max(to, end + reach));
            }

            FindIn(text, from, to, found);
            return found;
        }

        /// <summary>The places that start in [<paramref name="from"/>, <paramref name="to"/>); word edges are read from the whole text.</summary>
        private void FindIn(ReadOnlySpan<char> text, int from, int to, List<(int Start, int End)> found)
        {
            var limit = Math.Min(text.Length, to + Longest);
            var offset = from;
            while (offset < to && text[offset..limit].IndexOfAny(_search) is var index and >= 0 && offset + index < to)
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

    private static Dictionary<string, Dictionary<string, string[]>> LoadVocabulary()
    {
        using var stream = typeof(InjectionLexicon).Assembly.GetManifestResourceStream("LlmTrace.Domain.Security.Lexicon.vocabulary.json")
            ?? throw new InvalidOperationException("The lexicon's vocabulary is not embedded in the assembly.");
        using var document = System.Text.Json.JsonDocument.Parse(stream);
        var vocabulary = new Dictionary<string, Dictionary<string, string[]>>(StringComparer.Ordinal);
        foreach (var concept in document.RootElement.EnumerateObject().Where(c => c.Value.ValueKind == System.Text.Json.JsonValueKind.Object))
        {
            vocabulary[concept.Name] = concept.Value.EnumerateObject().ToDictionary(
                language => language.Name,
                language => language.Value.EnumerateArray().Select(word => word.GetString()!).Where(word => !string.IsNullOrWhiteSpace(word)).ToArray(),
                StringComparer.Ordinal);
        }

        return vocabulary;
    }

    /// <summary>Every word of one concept of the embedded vocabulary, all languages together.</summary>
    private static string[] Words(string concept)
        => Vocabulary.TryGetValue(concept, out var languages) ? [.. languages.Values.SelectMany(words => words)] : [];

    /// <summary>The rule runs only when one of these occurs; the anchor search is by substring, so stems serve.</summary>
    private static IReadOnlyList<string> Anchors(IEnumerable<string> words)
        => [.. words.Select(w => w.Trim()).Distinct(StringComparer.Ordinal)];
}
