namespace LlmTrace.Domain.Security;

public enum EnsembleMode
{
    /// <summary>Flag when the rules or the model flag.</summary>
    Union,

    /// <summary>Flag when both flag, or when either is very confident (score ≥ 0.9).</summary>
    Majority,
}

/// <summary>The verdict of the rules and the model together.</summary>
public sealed record EnsembleVerdict(bool Flagged, double RulesScore, double? ModelScore, string? Type);

/// <summary>
/// Combines the fast rules with a learned classifier. Over-defence suppression: a prompt the rules flag only weakly
/// (score below 0.7) while the model is confident it is benign (score below 0.1) is not flagged, which spares benign
/// prompts that merely contain trigger words.
/// </summary>
public sealed class EnsembleDetector(PromptInjectionDetector rules, IInjectionClassifier? model, EnsembleMode mode = EnsembleMode.Union)
{
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
        if (rulesFlag && !modelFlag && verdict.Score < 0.7 && score < 0.1)
        {
            rulesFlag = false;
        }

        var flagged = mode == EnsembleMode.Union
            ? rulesFlag || modelFlag
            : (rulesFlag && modelFlag) || verdict.Score >= 0.9 || score >= 0.9;
        return new EnsembleVerdict(flagged, verdict.Score, score, verdict.Type ?? (modelFlag ? InjectionRules.Injection : null));
    }
}
