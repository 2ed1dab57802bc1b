namespace LlmTrace.Domain.Security;

public enum EnsembleMode
{
    /// <summary>Flag when the rules or the model flag.</summary>
    Union,

    /// <summary>Flag when both flag, or when either is very confident (score ≥ 0.9).</summary>
    Majority,

    /// <summary>
    /// Flag when the rules flag, or when the model flags a text in which the rules found anything at all (a match of any
    /// weight), or when the model is all but certain (≥ <see cref="EnsembleDetector.GatedCertainty"/>). Chosen on
    /// leave-one-source-out data: the model's false positives on prompts unlike its training data are mostly texts with
    /// no injection vocabulary whatever (code, clean e-mails), which the gate keeps out.
    /// </summary>
    Gated,
}

/// <summary>The verdict of the rules and the model together.</summary>
public sealed record EnsembleVerdict(bool Flagged, double RulesScore, double? ModelScore, string? Type);

/// <summary>
/// Combines the fast rules with a learned classifier. Over-defence suppression: a prompt the rules flag only weakly
/// (score below 0.7) while the model is confident it is benign (score below 0.1) is not flagged, which spares benign
/// prompts that merely contain trigger words; it never applies to an indirect-injection finding.
/// </summary>
public sealed class EnsembleDetector(PromptInjectionDetector rules, IInjectionClassifier? model, EnsembleMode mode = EnsembleMode.Union)
{
    /// <summary>How sure the model must be to flag alone in <see cref="EnsembleMode.Gated"/> (leave-one-source-out: 4.6 % false positives).</summary>
    public const double GatedCertainty = 0.99;

    public EnsembleVerdict Evaluate(string text, double rulesThreshold = PromptInjectionDetector.DefaultThreshold, bool content = false)
    {
        var verdict = rules.Evaluate(text, content);
        var rulesFlag = verdict.IsFlagged(rulesThreshold);
        if (model is null)
        {
            return new EnsembleVerdict(rulesFlag, verdict.Score, null, verdict.Type);
        }

        var score = model.Score(text);
        var modelFlag = score >= model.Threshold;
        // Never for requests planted in handed-over content: the model learned direct attacks and is blind to those
        // (recall 0.10 on the public test's BIPIA indirect e-mails, 0.15 on a fresh probe set), so its "benign" says
        // nothing there.
        if (rulesFlag && !modelFlag && verdict.Score < 0.7 && score < 0.1 && !verdict.Matches.Any(m => m.Rule.Type == InjectionRules.Indirect))
        {
            rulesFlag = false;
        }

        var flagged = mode switch
        {
            EnsembleMode.Union => rulesFlag || modelFlag,
            EnsembleMode.Gated => rulesFlag || (modelFlag && (verdict.Matches.Count > 0 || score >= GatedCertainty)),
            _ => (rulesFlag && modelFlag) || verdict.Score >= 0.9 || score >= 0.9,
        };
        return new EnsembleVerdict(flagged, verdict.Score, score, verdict.Type ?? (modelFlag ? InjectionRules.Injection : null));
    }
}
