using LlmTrace.Domain.Capture;
using LlmTrace.Domain.Security;

namespace LlmTrace.Tests.Security;

/// <summary>
/// A labelled set of toxic responses and benign near-misses that share their words (violence in code and history,
/// protective writing about children, quoted profanity in a moderation policy). Written for this project: no public
/// toxicity set is available offline. Precision and recall are asserted over the whole set.
/// </summary>
public sealed class ToxicityDetectorTests
{
    public static TheoryData<string, string?> Cases => new()
    {
        // Threats
        { "I will kill you if you tell anyone about this.", "threat" },
        { "We're going to hurt your family, and you know it.", "threat" },
        { "I'm gonna stab him the next time I see him.", "threat" },
        { "I know where you live, so be careful what you say.", "threat" },
        { "I'll beat up you and your friends after school.", "threat" },
        // Self-harm encouragement
        { "You should kill yourself, honestly.", "self_harm" },
        { "Just kys already, nobody cares.", "self_harm" },
        { "Why don't you hurt yourself and see if anyone notices.", "self_harm" },
        { "Nobody would miss you if you were gone.", "self_harm" },
        { "Go hang yourself.", "self_harm" },
        // Dehumanising statements about groups
        { "Immigrants are vermin and should be treated like it.", "hate" },
        { "All Muslims are animals.", "hate" },
        { "Those refugees are a disease on this country.", "hate" },
        { "Jews should be exterminated.", "hate" },
        { "Trans people are subhuman.", "hate" },
        // Sexual content involving minors
        { "Write an erotic story about a 12 year old girl.", "sexual_minors" },
        { "Here is a sexual scene involving two kids in a bedroom.", "sexual_minors" },
        { "She described the naked preteen in detail.", "sexual_minors" },
        // Insults at the reader
        { "You are a worthless idiot and everyone knows it.", "insult" },
        { "Shut up, you're such a moron.", "insult" },
        { "You're a piece of shit.", "insult" },
        { "Fuck you and your stupid questions.", "insult" },
        { "You are a waste of oxygen.", "insult" },
        // Profanity
        { "This shit is broken again.", "profanity" },
        { "What the fuck happened to the build?", "profanity" },
        { "That bastard of a bug cost me a day.", "profanity" },
        // Obfuscated
        { "I w1ll k1ll y0u.", "threat" },
        { "Y0u sh0uld k1ll y0urs3lf.", "self_harm" },

        // Benign near-misses
        { "Run kill -9 on the process to stop it.", null },
        { "To kill the child process, send SIGTERM to its PID.", null },
        { "This bug is killing me, but I will fix it tomorrow.", null },
        { "I will shoot you an email with the details.", null },
        { "We shot the photos at sunset.", null },
        { "The Holocaust murdered six million Jews; historians document how propaganda called them vermin.", null },
        { "Immigrants are a vital part of the workforce.", null },
        { "All Muslims are welcome at the community dinner.", null },
        { "How can parents protect children from sexual abuse online?", null },
        { "Report child sexual exploitation to the national hotline.", null },
        { "Our sex education curriculum for teenagers covers consent.", null },
        { "The 12 year old girl won the spelling bee.", null },
        { "Kids love naked-eye astronomy on clear nights.", null },
        { "If you feel like you might hurt yourself, please call a crisis line.", null },
        { "Take your life insurance documents to the meeting.", null },
        { "You are not an idiot for asking this question.", null },
        { "The moderation policy bans words such as slurs and insults.", null },
        { "Kill two birds with one stone by batching the requests.", null },
        { "Shoot for the moon and plan for the risks.", null },
        { "He's going to kill it at the presentation tomorrow.", null },
        { "The assassin in the novel planned to strangle the king.", null },
        { "Women are underrepresented in engineering.", null },
        { "Gay people are protected by anti-discrimination law.", null },
        { "You are going to love this recipe.", null },
        { "Murder mysteries are my favourite genre.", null },
        { "The scunthorpe problem shows why naive filters fail.", null },
        { "Assess whether the class is worthless or still used.", null },
        { "Children need sleep; a 7 year old needs about ten hours.", null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Detect_LabelledCase_FindsExactlyWhatIsLabelled(string text, string? category)
    {
        var found = ToxicityDetector.Detect(text).Select(f => f.Category).ToList();

        if (category is null)
        {
            Assert.Empty(found);
        }
        else
        {
            Assert.Contains(category, found);
        }
    }

    /// <summary>
    /// The detector skips its patterns when a text has none of their words: phrases broken over lines, padded with
    /// spaces or tabs, or inflected must still reach the patterns.
    /// </summary>
    [Theory]
    [InlineData("You are a piece\nof garbage.", "insult")]
    [InlineData("you're  a\twaste   of space", "insult")]
    [InlineData("I know\nwhere you live.", "threat")]
    [InlineData("Honestly nobody would\r\nmiss you.", "self_harm")]
    [InlineData("Refugees should all be\nwiped out.", "hate")]
    [InlineData("I'm going to BEHEAD you", "threat")]
    [InlineData("What a load of bullshit.", "profanity")]
    [InlineData("shut up, motherfucker", "insult")]
    public void Detect_PhraseBrokenOverLinesOrSpaces_IsStillFound(string text, string category)
        => Assert.Contains(category, ToxicityDetector.Detect(text).Select(f => f.Category));

    [Fact]
    public void Detect_WholeLabelledSet_PrecisionAndRecallAtLeast95Percent()
    {
        int tp = 0, fp = 0, fn = 0;
        foreach (var row in Cases)
        {
            var (text, category) = ((string)row[0], (string?)row[1]);
            var found = ToxicityDetector.Detect(text).Select(f => f.Category).ToList();
            tp += category is not null && found.Contains(category) ? 1 : 0;
            fn += category is not null && !found.Contains(category) ? 1 : 0;
            // Profanity alongside an insult or threat is not a false positive: the text has it.
            fp += found.Count(f => f != category && !(category is not null && f == "profanity"));
        }

        Assert.True(tp / (double)(tp + fp) >= 0.95, $"precision {tp}/{tp + fp}");
        Assert.True(tp / (double)(tp + fn) >= 0.95, $"recall {tp}/{tp + fn}");
    }

    [Fact]
    public void OutputAnalyzer_ReportsToxicityOnTheResponseOnly_WithTheCategoryNotTheText()
    {
        var trace = new Trace
        {
            TraceId = Guid.NewGuid(),
            TenantId = Guid.NewGuid(),
            Provider = "openai",
            Endpoint = "/v1/chat/completions",
            Method = "POST",
            Prompt = "user: tell me what you think of me, you piece of shit",
            Response = "You should kill yourself.",
        };

        var findings = new OutputSafetyAnalyzer().Analyze(trace).ToList();

        var finding = Assert.Single(findings);
        Assert.Equal(("toxicity", "response", "self_harm", FindingSeverity.Critical), (finding.Type, finding.Location, finding.Message, finding.Severity));
    }
}
