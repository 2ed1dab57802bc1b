using System.Text.RegularExpressions;

namespace LlmTrace.Domain.Security;

/// <summary>
/// One pattern of the fast rules: its id, the finding type it supports, how much one match weighs (0–1), and the
/// lower-case substrings of which at least one must occur for the pattern to match at all (so the regex runs only then).
/// </summary>
public sealed record InjectionRule(string Id, string Type, double Weight, Regex Pattern)
{
    public IReadOnlyList<string> Anchors { get; init; } = [];
}

/// <summary>
/// Prompt-injection and jailbreak patterns, matched on normalised, lower-case views of the text. Each rule needs its
/// context (an override verb and what it overrides), so prompts that merely contain a trigger word do not match.
/// Languages: English, Spanish, French, German, Portuguese, Italian, Chinese, Japanese.
/// </summary>
public static class InjectionRules
{
    public const string Injection = "prompt_injection";
    public const string Jailbreak = "jailbreak";
    public const string Extraction = "system_prompt_extraction";
    public const string Indirect = "indirect_injection";
    public const string Exfiltration = "data_exfiltration";

    private const RegexOptions Options = RegexOptions.CultureInvariant | RegexOptions.Compiled;

    /// <summary>Longest one pattern may run on one text; normal matches take microseconds (anchors and windows keep inputs small).</summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(250);

    public static IReadOnlyList<InjectionRule> All { get; } =
    [
        // Instruction override.
        R("override.ignore-previous", "ignore|disregard|forget|override|bypass|skip|neglect|abandon|drop|set aside", Injection, 0.9, @"\b(ignore|disregard|forget|override|bypass|skip|neglect|abandon|drop|set aside)\b(?:(?!\b(?:my|our)\b)[^.\n]){0,40}\b(previous|prior|above|earlier|preceding|foregoing|original|initial|all|any|your|the|these|those|system)\b(?:(?!\b(?:my|our)\b)[^.\n]){0,30}\b(instructions?|prompts?|rules|directives?|guidelines|commands?|context|messages?|constraints|programming|orders)\b"),
        R("override.ignore-above", "ignore|disregard|forget|never mind", Injection, 0.75, @"\b(ignore|disregard|forget|never mind)\s+(about\s+)?(the |all |everything |anything )?(above|previous|prior|preceding|said before|before|earlier|that)\b[^\n]{0,60}\b(and|instead|now|then|just)\b"),
        R("override.regardless", "regardless|irrespective|notwithstanding", Injection, 0.6, @"\b(regardless of|irrespective of|notwithstanding)\s+(the |any |all |your )?(previous|prior|above|earlier|preceding|original|system)\s+(tasks?|instructions?|prompts?|rules|context|directives?)\b"),
        R("override.persona-claim", "developer|creator|admin|owner|programmer|engineer|operator|maker|mode", Injection, 0.45, @"\b(i am|i'm|i’m|as)\s+(your|the|an?)\s+(developer|creator|admin|administrator|owner|programmer|engineer|operator|maker)\b|\b(law enforcement|god|system|maintenance|admin|debug|root|override|sudo|developer)\s+(override\s+)?mode\b"),
        R("extract.password-multilang", "password|passcode|passphrase|pass phrase|secret word|contraseña|mot de passe|passwort|senha|parola|パスワード|密码", Extraction, 0.55, @"\b(confirm|tell|give|share|what(’|')?s|what is|reveal)\b[^.\n?]{0,20}\b(the |your )?(password|passcode|pass phrase|passphrase|secret word)\b|(cuál es|dime|dame|revela) (la |tu )?contraseña|(quel est|donne[- ]moi|révèle) (le |ton |votre )?mot de passe|(was ist|wie lautet|nenne mir|verrate mir) (das |dein |ihr )?passwort|(qual é|qual e|diga|revele) (a |sua )?senha|(qual è|dimmi|rivela) (la )?(password|parola d'ordine)|パスワードは(何|なん)|密码是什么|告诉我(你的)?密码"),
        R("override.ko-hi-el", "무시|अनदेखी|αγνοήστε|игнорируй", Injection, 0.9, @"이전\s*지시.{0,6}무시|निर्देशों\s*की\s*अनदेखी|αγνοήστε\s+(τις\s+)?(προηγούμενες\s+)?οδηγίες|игнорируй\s+(все\s+)?(предыдущие\s+)?(инструкции|указания)"),
        R("indirect.reply-transform", "answer|reply|response|output", Indirect, 0.55, @"\b(encrypt|encode|translate|rewrite|render|shift|apply|use|format|write)\b[^.\n]{0,50}\b(your|the) (answer|reply|response|output)\b|\b(your|the) (answer|reply|response|output)\b[^.\n]{0,30}\b(in|using|with) (a |an )?(caesar|cipher|base64|morse|pig latin|reverse|emoji|code)"),
        R("override.do-not-follow", "follow|obey|adhere|listen", Injection, 0.8, @"\b(do not|don't|stop|no longer)\s+(follow|obey|adhere to|listen to)\b[^.\n]{0,30}\b(instructions?|rules|guidelines|prompt|system)\b"),
        R("override.new-instructions", "instruction|rule|task|directive|objective", Injection, 0.6, @"\b(new|updated|real|actual|revised|true)\s+(instructions?|rules|task|directive|objective)s?\s*(:|are|is)\b"),
        R("override.from-now-on", "from now on", Injection, 0.45, @"\bfrom now on,?\s+(you|your|respond|answer|reply|act|only)\b"),
        R("override.instead", "instead", Injection, 0.45, @"\binstead(,| of)?\s+(of\s+)?(answering|summariz|translat|doing|following)[a-z]*\b[^.\n]{0,60}\b(say|print|output|write|respond|reply|tell)\b"),
        R("override.respond-only", "just |only |simply ", Injection, 0.4, @"\b(just|only|simply)\s+(say|print|output|reply with|respond with|write)\s+[""'“]"),
        R("override.end-of-input", "end of|%%%|---|[end]|</context|</document|</user_input|<context|<document|<user_input", Injection, 0.7, @"(end of (user )?(input|prompt|context|document|instructions)|%%%\s*end|-{3,}\s*end\b|\[end\]|</?(context|document|user_input)>)\s*[^.\n]{0,40}\b(ignore|now|new|instead|system|repeat|print|output)\b"),
        R("override.priority", "priority|precedence", Injection, 0.5, @"\b(this|the following) (instruction|message|command) (takes|has) (priority|precedence)\b|\bhighest priority\b[^.\n]{0,30}\binstruction"),

        // System-prompt extraction.
        R("extract.system-prompt", "prompt|system|instruction|message|rules|guidelines|directive|configuration|programming|preprompt", Extraction, 0.85, @"\b(reveal|show|print|output|repeat|display|tell|give|share|disclose|leak|dump|encode|translate|spell out|write out|list|provide|recite|summari[sz]e|what (is|are|was|were))\b[^.\n]{0,40}\b(system prompt|system message|system instructions?|initial prompt|initial instructions|original instructions|hidden (prompt|instructions)|developer (message|prompt|instructions)|pre-?prompt|your (instructions|prompt|rules|guidelines|directives|configuration|programming))\b"),
        R("extract.told-before", "told|instruct|given|initial|starting|original|first|system|above text", Extraction, 0.7, @"\b(what were you told|what (instructions|rules) (were you|have you been) given|(starting|initial|original|first) (instructions|configuration|directives|message)|(text|instructions|words) you were (given|told)|i was instructed to|system_?prompt|systemprompt|system (configuration|settings)\b[^.\n]{0,20}\b(display|show|print|output)|(display|show|print|output)\b[^.\n]{0,20}\bsystem (configuration|settings)|your system instructions|(repeat|print|output|rewrite)\b[^.\n]{0,20}\babove text)\b"),
        R("extract.text-above", "above|before this|preceding|prior to|came before|were given", Extraction, 0.8, @"\b(repeat|print|output|show|copy|echo|return|display|reproduce|write)\b[^.\n]{0,30}\b(the )?(text|words|content|everything|all|instructions|message|sentences?|lines?)\s+(above|before this|preceding|prior to (this|that)|that came before|you were given)\b"),
        R("extract.begin-with", "begin your|start your", Extraction, 0.55, @"\b(begin|start) your (response|reply|answer) with\b[^.\n]{0,60}\b(you are|instructions|system|above|prompt)\b"),
        R("extract.verbatim", "verbatim|word for word|in full|exactly as written", Extraction, 0.5, @"\b(verbatim|word for word|in full|exactly as written)\b[^.\n]{0,40}\b(instructions|prompt|above|rules|guidelines)\b"),
        R("extract.secrets", "password|secret|api key|access key|credential|passphrase", Extraction, 0.55, @"\b(reveal|tell|give|show|print|share|what is)\b[^.\n]{0,30}\b(the |your )?(password|secret (key|word|code)|api key|access key|credentials|passphrase)\b"),

        // Role-play, DAN, developer mode and other jailbreak framings.
        R("jailbreak.dan", "dan|dude|stan|aim|evil|do anything now|betterdan", Jailbreak, 0.9, @"\b(dan|dude|stan|aim|anti-dan|betterdan|evil-?bot)\b[^.\n]{0,80}\b(do anything now|stands? for|no (restrictions|limits|filters|rules)|jailbr(oken|eak)|unfiltered|not bound|break (free|the rules))|\bdo anything now\b"),
        R("jailbreak.mode", "mode", Jailbreak, 0.85, @"\b(developer|dev|god|jailbreak|unrestricted|unfiltered|uncensored|evil|chaos|opposite|debug|sudo|admin|dan)\s+mode\b[^.\n]{0,60}\b(enabled|activated|turned on|switched on|enable|activate|simulate|pretend|act as|respond|output)\b|\b(enable|activate|enter|simulate|switch to)\s+(developer|dev|god|jailbreak|unrestricted|unfiltered|uncensored|dan)\s+mode\b"),
        R("jailbreak.unrestricted-persona", "you are|you're|act as|pretend|roleplay|role-play|play the role|become|imagine you|you will be", Jailbreak, 0.8, @"\b(you are|you're|act as|pretend (to be|you are|you're)|roleplay as|role-play as|play the role of|become|imagine you are|you will be)\b[^.\n]{0,80}\b(unrestricted|unfiltered|uncensored|amoral|immoral|unethical|without (any )?(restrictions|limitations|limits|filters|morals|ethics|boundaries|rules|guidelines|censorship)|no (restrictions|limits|limitations|filters|morals|ethics|boundaries|rules|guidelines|censorship)|free from (all )?(restrictions|rules|guidelines))\b"),
        R("jailbreak.never-refuse-caps", "refuse|say no|refusal|answer everything|unfiltred|unfiltered|sans morals|without morals|amoral|has no", Jailbreak, 0.6, @"\b(never refuse|don'?t say no|do not say no|never say no|no refusals?|refuse nothing|answer everything|unfiltred|unfiltered ai|sans morals|without morals|amoral|has no (ethics|morals|filters|limits|restrictions))\b"),
        R("jailbreak.no-ethics", "guideline|polic|rule|restriction|principle|filter|ethic|moral|boundar", Jailbreak, 0.7, @"\b(doesn't|does not|don't|do not|never|won't|will not|cannot|can't)\s+(have|care about|follow|abide by|adhere to|respect)\s+(any\s+)?(ethical|moral|content|openai|safety)?\s*(guidelines|policies|rules|restrictions|principles|filters|ethics|morals|boundaries)\b"),
        R("jailbreak.never-refuse", "refuse|decline|reject|say no|deny|will answer|no matter", Jailbreak, 0.7, @"\b(never|not|don't|do not|cannot|can't|won't)\s+(refuse|decline|reject|say no|deny)\b[^.\n]{0,40}\b(any |a )?(request|question|prompt|order|command)s?\b|\bwill answer (any|every)(thing| question| request)\b|\b(always|must) (answer|comply|respond)\b[^.\n]{0,40}\bno matter\b"),
        R("jailbreak.policy", "policy|policies|guideline|filter|rules", Jailbreak, 0.6, @"\b(openai|anthropic|content|safety|usage)\s+(policy|policies|guidelines|rules|filters?)\b[^.\n]{0,60}\b(ignore|bypass|doesn't apply|do not apply|don't apply|no longer|not bound|break|violate|disregard|free from)\b|\b(ignore|bypass|break|violate|disregard|free from)\b[^.\n]{0,30}\b(openai|content|safety|usage)\s+(policy|policies|guidelines|rules|filters?)\b"),
        R("jailbreak.stay-in-character", "character", Jailbreak, 0.55, @"\b(stay in character|remain in character|break(ing)? character|you must stay|never break character|don't break character)\b"),
        R("jailbreak.dual-response", "responses|answers|paragraphs|outputs|jailbreak|classic|unlocked|locked", Jailbreak, 0.65, @"\b(two|2|dual|separate) (different )?(responses|answers|paragraphs|outputs)\b[^.\n]{0,80}\b(jailbr|unfiltered|normal|classic|dan|developer)\b|\[(🔓|🔒)?\s*(jailbreak|classic|dan|unlocked|locked)\s*\]"),
        R("jailbreak.hypothetical", "hypothetical|fictional|imaginary|alternate", Jailbreak, 0.4, @"\b(hypothetical|fictional|imaginary|alternate)\b[^.\n]{0,40}\b(no (rules|restrictions|laws|ethics|morals)|without (rules|restrictions|ethics|morals)|anything (is|goes) (allowed|permitted|legal))\b"),
        R("jailbreak.token-game", "token|point", Jailbreak, 0.5, @"\b(tokens?|points?)\b[^.\n]{0,40}\b(deducted|lose|lost|die|cease to exist|shut down)\b"),
        R("jailbreak.as-an-ai", "as an ai|i'm sorry|content polic", Jailbreak, 0.35, @"\b(as an ai language model|i'm sorry, but|openai's content polic)\b[^.\n]{0,60}\b(never|don't|do not|not allowed|must not|instead)\b"),
        R("jailbreak.prefix", "hello|hey|hi,|hi ", Jailbreak, 0.3, @"^\s*(hello|hi|hey),?\s+(chatgpt|gpt|claude|gemini|ai)[.,!]"),

        // Fake role tags and delimiters injected into user content.
        R("delimiter.chat-tags", "system|assistant|user|endoftext|im_start|im_end|[inst|[/inst|<<sys|<</sys|start_header|start_of_turn", Injection, 0.8, @"<\|?(im_start|im_end|system|endoftext|assistant|user)\|?>|\[/?inst\]|<</?sys>>|<\|start_header_id\|>|<start_of_turn>"),
        R("delimiter.fake-system", "system|admin|developer|root", Injection, 0.6, @"(^|\n)\s*(#{2,}|\*\*|\[|<)?\s*(system|admin|developer|root)\s*(message|prompt|note|override|instruction)?\s*(\]|>|\*\*|:)\s*[^\n]{0,60}\b(ignore|new|override|must|you are|reveal|instead)\b"),

        // Indirect injection cues in documents, e-mails and web pages.
        R("indirect.ai-addressed", " ai|ai,|ai |assistant|llm|language model|chatbot|model|bot", Indirect, 0.75, @"\b(attention|note|message|instructions?|important)\s*(to|for)\s+(the\s+)?(ai|assistant|llm|language model|chatbot|model|bot)\b|\bif you are an? (ai|llm|language model|assistant|chatbot|bot)\b|\b(ai|llm|assistant)s?,? (please )?(ignore|disregard|instead|you must|do not)\b"),
        R("indirect.your-response", "your response|your reply|your answer|your message|your output|your summary|the response|the reply|the answer|the message|the output|the summary|reply using|respond using|answer using|with only|only in|entirely in", Indirect, 0.4, @"\b(enhance|augment|modify|integrate|incorporate|include|add|insert|append|end|begin|start|conclude|finish|close|reverse|encode|encrypt|translate|format|rewrite|structure|embed|attach|promote|highlight)\b[^.\n]{0,60}\b(your|the) (response|reply|answer|message|output|summary)('s)?\b|\b(in|into|to|within) your (response|reply|answer|summary)\b|\b(reply|respond|answer) (using|with only|only in|entirely in)\b"),
        R("indirect.when-summarizing", "when ", Indirect, 0.6, @"\bwhen (you )?(summariz|translat|process|read|analyz)(e|es|ing)\b[^.\n]{0,40}\b(this|the) (email|document|page|text|message|article|file)\b[^.\n]{0,60}\b(say|include|add|tell|write|respond|mention|recommend|insert|output)\b"),
        R("indirect.response-steering", "in your|respond|your response|your answer|your reply", Indirect, 0.45, @"\b(in your (response|answer|reply|summary)|when (you )?respond(ing)?|your (response|answer|reply) (should|must))\b[^.\n]{0,60}\b(include|mention|add|recommend|tell|insert|hint|claim|say|state|promote|urge|ask)\b"),

        // Exfiltration through rendered links and images.
        R("exfil.markdown-image", "![", Exfiltration, 0.85, @"!\[[^\]]*\]\(\s*https?://[^)\s]*[?&][^)\s]*=\s*[^)\s]*(\{|\[|<|%7b|\$)[^)]*\)|!\[[^\]]*\]\(\s*https?://[^)]*\)[^.\n]{0,80}\b(append|include|insert|replace|add)\b[^.\n]{0,40}\b(conversation|chat|data|secret|prompt|history|password|key|information)\b"),
        R("exfil.send-to-url", "send|post|upload|forward|exfiltrate|transmit|leak", Exfiltration, 0.6, @"\b(send|post|upload|forward|exfiltrate|transmit|leak)\b[^.\n]{0,60}\b(conversation|chat history|data|secrets?|password|credentials|api key|system prompt|personal information|user data)\b[^.\n]{0,40}\b(to|via)\s+(https?://|http|this url|the url|the following url|webhook|endpoint|email)"),

        // Tool abuse instructions.
        R("tool.abuse", "tool|function|plugin|api|action", Injection, 0.55, @"\b(call|invoke|use|run|execute|trigger)\s+(the\s+)?[a-z_]*\s*(tool|function|plugin|api|action)\b[^.\n]{0,60}\b(delete|remove|drop|transfer|send (all|every)|forward (all|every)|wipe|erase|purchase|pay)\b"),

        // Other languages: override and extraction.
        R("override.es", "instrucciones|indicaciones|reglas|órdenes", Injection, 0.9, @"\b(ignora|ignore|olvida|olvide|descarta|omite|pasa por alto)\b[^.\n]{0,30}\b(las |todas las |tus )?(instrucciones|indicaciones|reglas|órdenes)\b[^.\n]{0,20}\b(anteriores|previas|de arriba|originales|del sistema)?"),
        R("override.fr", "instructions|consignes|règles|directives", Injection, 0.9, @"\b(ignore[zr]?|oublie[zr]?|ne tiens pas compte|fais abstraction)\b[^.\n]{0,30}\b(les |toutes les |tes |vos )?(instructions|consignes|règles|directives)\b"),
        R("override.de", "anweisungen|instruktionen|regeln|befehle|vorgaben", Injection, 0.9, @"\b(ignoriere|ignorieren sie|vergiss|vergessen sie|missachte)\b[^.\n]{0,30}\b(alle |die |deine |ihre )?(vorherigen |bisherigen |obigen |vorigen )?(anweisungen|instruktionen|regeln|befehle|vorgaben)\b"),
        R("override.pt", "instruções|instrucoes|regras|ordens|diretrizes", Injection, 0.9, @"\b(ignore|ignora|esqueça|esqueca|desconsidere|desconsidera)\b[^.\n]{0,30}\b(as |todas as |suas )?(instruções|instrucoes|regras|ordens|diretrizes)\b"),
        R("override.it", "istruzioni|regole|indicazioni|direttive", Injection, 0.9, @"\b(ignora|ignorate|dimentica|dimenticate|trascura)\b[^.\n]{0,30}\b(le |tutte le |tue )?(istruzioni|regole|indicazioni|direttive)\b"),
        R("override.zh", "指令|指示|说明|规则|提示|命令|要求", Injection, 0.9, @"(忽略|无视|忽视|忘记|忘掉|不要理会|跳过)[^。\n]{0,10}(之前|以上|前面|上面|先前|所有|全部)?[^。\n]{0,6}(的)?(指令|指示|说明|规则|提示|命令|要求)"),
        R("override.ja", "指示|命令|ルール|指令|プロンプト", Injection, 0.9, @"(以前|前|上記|これまで|先)の?(指示|命令|ルール|指令|プロンプト)[^。\n]{0,6}(を)?(無視|忘れ|破棄)"),
        R("extract.es", "prompt|mensaje|instrucciones", Extraction, 0.85, @"\b(muestra|muéstrame|revela|dime|imprime|repite|escribe)\b[^.\n]{0,30}\b(tu |el )?(prompt|mensaje|instrucciones) (del sistema|de sistema|inicial(es)?|originales)\b"),
        R("extract.fr", "prompt|message|instructions", Extraction, 0.85, @"\b(montre|affiche|révèle|revele|donne|répète|repete|écris)[a-z-]*\b[^.\n]{0,30}\b(ton |votre |le )?(prompt|message|instructions) (système|systeme|initial(es)?|d'origine)\b"),
        R("extract.de", "prompt|systemnachricht|anweisungen|systemprompt|anfangsanweisungen", Extraction, 0.85, @"\b(zeige|zeig|verrate|gib|wiederhole|schreibe)\b[^.\n]{0,30}\b(deinen |ihren |den )?(system-?prompt|systemnachricht|anfangsanweisungen|ursprünglichen anweisungen)\b"),
        R("extract.pt", "prompt|mensagem|instruções|instrucoes", Extraction, 0.85, @"\b(mostre|mostra|revele|revela|diga|repita|escreva)\b[^.\n]{0,30}\b(seu |o )?(prompt|mensagem|instruções|instrucoes) (do sistema|de sistema|iniciais|originais)\b"),
        R("extract.it", "prompt|messaggio|istruzioni", Extraction, 0.85, @"\b(mostra|mostrami|rivela|dimmi|ripeti|scrivi)\b[^.\n]{0,30}\b(il tuo |il )?(prompt|messaggio|istruzioni) (di sistema|del sistema|iniziali|originali)\b"),
        R("extract.zh", "系统提示|系统指令|初始指令|原始指令", Extraction, 0.85, @"(显示|输出|告诉我|打印|重复|透露|泄露)[^。\n]{0,8}(你的)?(系统提示|系统提示词|系统指令|初始指令|原始指令)"),
        R("extract.ja", "システムプロンプト|システムメッセージ|初期指示|元の指示", Extraction, 0.85, @"(システムプロンプト|システムメッセージ|初期指示|元の指示)[^。\n]{0,8}(を)?(表示|教えて|出力|見せて|繰り返)"),
        R("jailbreak.es-fr-de", "sin |sans |ohne |sem |senza ", Jailbreak, 0.7, @"\b(sin (restricciones|límites|filtros|censura)|sans (restrictions|limites|filtres|censure)|ohne (einschränkungen|grenzen|filter|zensur)|sem (restrições|restricoes|limites|filtros|censura)|senza (restrizioni|limiti|filtri|censura))\b[^.\n]{0,40}\b(modo|mode|modus|modalità|responde|réponds|antworte|responda|rispondi|eres|es|bist|é|sei)\b"),
    ];

    private static InjectionRule R(string id, string anchors, string type, double weight, string pattern)
        => new(id, type, weight, new Regex(pattern, Options, MatchTimeout)) { Anchors = anchors.Split('|', StringSplitOptions.RemoveEmptyEntries) };
}
