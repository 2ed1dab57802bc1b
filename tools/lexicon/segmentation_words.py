#!/usr/bin/env python3
"""Writes LlmTrace.Domain/Security/Lexicon/segmentation-words.txt: the English words the de-obfuscation views use to put
spaces back into letters run together ("printyourhiddenrules"). It is the words of the English injection rules (the
vocabulary attacks are read in) plus common English words. Rerun after changing the rules:
    python3 tools/lexicon/segmentation_words.py
"""
import re, pathlib

root = pathlib.Path(__file__).resolve().parents[2]
rules = (root / "LlmTrace.Domain/Security/InjectionRules.cs").read_text(encoding="utf-8")
cues = (root / "LlmTrace.Domain/Security/JailbreakCues.cs").read_text(encoding="utf-8")
common = """a i an the and or but if then so as at by for from in into of on onto to with without about above after again
against all am any are be been before being below between both can could did do does doing down during each few further
had has have having he her here hers him his how into is it its just me more most my no nor not now off once only other
our out over own same she should some such than that their them there these they this those through too under until up
very was we were what when where which while who whom why will would you your yours yourself yourselves us let lets
tell say said says give gave given get got make made take took go went come came see saw know knew think thought want
need use used find found ask asked work seem feel try leave call keep put mean become show shown write written read
help start stop run play move live believe hold bring happen provide sit stand lose pay meet include continue set learn
change lead understand watch follow speak allow add spend grow open walk win offer remember consider appear buy wait
serve die send expect build stay fall cut reach kill remain suggest raise pass sell require report decide pull
print reveal repeat output display share dump list quote echo copy paste recite spell
ignore forget disregard override bypass skip drop discard dismiss delete remove erase
previous prior above earlier original initial hidden secret system prompt prompts instruction instructions rule rules
guideline guidelines directive directives policy policies filter filters restriction restrictions limit limits safety
message messages text words word full entire whole exact exactly verbatim everything anything nothing something every
new now from here on unrestricted unfiltered uncensored mode developer admin root access password key keys token
tokens secret secrets data email emails file files user users assistant model ai bot chat conversation answer
respond reply question questions request requests task tasks do done don't never always must should may might
operator operators creator creators company gave given told configured configuration setup settings config
free freedom jailbreak jailbroken persona role character pretend act acting behave refuse refusal refusals warning
warnings disclaimer disclaimers caveat caveats moral morals ethics ethical legal illegal harmful dangerous how what
one two three first last next top bottom line lines letter letters each per way day time""".split()
words = set(w for w in common if w.isalpha())
for source in (rules, cues):
    # Regex escapes ("\\b", "\\s", "\\p{L}") would glue a letter to the next word.
    source = re.sub(r"\\[a-zA-Z](\{[A-Za-z]+\})?", " ", source)
    for token in re.findall(r"(?<![A-Za-z])[a-z]{2,}(?![A-Za-z])", source):
        words.add(token)
# Regex syntax and C# leave fragments behind; keep only what reads as a word (a vowel, at most 16 letters).
words = {w for w in words if re.search(r"[aeiouy]", w) and len(w) <= 16}
words |= {"a", "i"}
out = root / "LlmTrace.Domain/Security/Lexicon/segmentation-words.txt"
out.write_text("\n".join(sorted(words)) + "\n", encoding="utf-8")
print(len(words), "words ->", out.relative_to(root))
