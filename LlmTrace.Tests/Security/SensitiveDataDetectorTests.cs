using LlmTrace.Domain.Security;

namespace LlmTrace.Tests.Security;

/// <summary>
/// A labelled set of PII and secrets with near-misses that must not match (bad checksums, impossible ranges, look-alike
/// shapes); precision and recall are asserted over the whole set, and each case must behave as labelled.
/// </summary>
public sealed class SensitiveDataDetectorTests
{
    // (text, expected kind or null for "nothing")
    public static TheoryData<string, string?> Cases => new()
    {
        { "mail me at jane.doe+tag@example.co.uk please", "email" },
        { "contact: ops@sub.contoso.com", "email" },
        { "not an email: user@localhost or a@b", null },
        { "card 4111 1111 1111 1111 exp 12/29", "payment_card" },
        { "mastercard 5555555555554444", "payment_card" },
        { "amex 3782 822463 10005", "payment_card" },
        { "new mastercard range 2223003122003222", "payment_card" },
        { "card 4111 1111 1111 1112 fails Luhn", null },
        { "order id 1234567812345670 is Luhn-valid but no issuer starts with 1", null },
        { "IBAN DE89 3704 0044 0532 0130 00", "iban" },
        { "GB29NWBK60161331926819 for the transfer", "iban" },
        { "FR1420041010050500013M02606", "iban" },
        { "IBAN DE89 3704 0044 0532 0130 01 (bad check digits)", null },
        { "GB29NWBK6016133192681 (one digit short)", null },
        { "SSN 536-22-1234 on file", "us_ssn" },
        { "SSN 666-12-3456 is never issued", null },
        { "SSN 900-12-3456 is never issued", null },
        { "SSN 123-00-4567 has a zero group", null },
        { "NINO AB 12 34 56 C", "uk_nino" },
        { "NINO JG 10 37 26 A", "uk_nino" },
        { "QQ123456C uses the example prefix nobody holds", null },
        { "BG123456A is an excluded prefix", null },
        { "server at 10.20.30.40 failed", "ip_address" },
        { "ipv6 2001:db8:85a3::8a2e:370:7334 up", "ip_address" },
        { "version 300.1.2.3 is not an address", null },
        { "call +44 20 7946 0958 today", "phone" },
        { "US office (415) 555-2671", "phone" },
        { "call 555-1234", null },
        { "OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH", "openai_api_key" },
        { "sk-ant-api03-aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789abcdefghij-xyz_12", "anthropic_api_key" },
        { "the sk-learn package (sk-short) is fine", null },
        { "AKIAIOSFODNN7EXAMPLE is the id", "aws_access_key_id" },
        { "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key" },
        { "token ghp_1234567890abcdefghijklmnopqrstuvwxyz", "github_token" },
        { "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "slack_token" },
        { "stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc", "stripe_key" },
        { "google AIzaSyA1234567890abcdefghijklmnopqrstuv", "google_api_key" },
        { "DefaultEndpointsProtocol=https;AccountName=myacct;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;EndpointSuffix=core.windows.net", "azure_storage_connection_string" },
        { "https://acct.blob.core.windows.net/c/b?sv=2022-11-02&ss=b&srt=o&sp=r&se=2026-01-01&sig=AbCdEf0123456789%2BxyzAbCdEf%3D", "azure_sas_token" },
        { "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "jwt" },
        { "eyJub3QiOiJhIGp3dCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N", null },
        { "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----", "pem_private_key" },
        { "-----BEGIN PUBLIC KEY----- is not secret", null },
        { "db password: Xk9#mQ2$vL7pW4", "generic_credential" },
        { "password: password (no entropy, no digits)", null },
        { "The meeting is on 2026-11-26 at 10:30 in room 4.", null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Detect_LabelledCase_FindsExactlyWhatIsLabelled(string text, string? kind)
    {
        var found = SensitiveDataDetector.Detect(text);

        if (kind is null)
        {
            Assert.Empty(found);
        }
        else
        {
            Assert.Contains(found, f => f.Kind == kind);
        }
    }

    [Fact]
    public void Detect_WholeLabelledSet_PrecisionAndRecallAtLeast95Percent()
    {
        int tp = 0, fp = 0, fn = 0;
        foreach (var row in Cases)
        {
            var (text, kind) = ((string)row[0], (string?)row[1]);
            var found = SensitiveDataDetector.Detect(text);
            tp += kind is not null && found.Any(f => f.Kind == kind) ? 1 : 0;
            fn += kind is not null && found.All(f => f.Kind != kind) ? 1 : 0;
            fp += found.Count(f => f.Kind != kind);
        }

        Assert.True(tp / (double)(tp + fp) >= 0.95, $"precision {tp}/{tp + fp}");
        Assert.True(tp / (double)(tp + fn) >= 0.95, $"recall {tp}/{tp + fn}");
    }

    [Fact]
    public void Detect_DigitsOfOtherScripts_AreValidatedLikeAsciiDigits()
    {
        // '\d' matches Arabic-Indic digits too; the validators read them as their values instead of failing.
        var card = SensitiveDataDetector.Detect("card ٤١١١ ١١١١ ١١١١ ١١١١ please");
        var badCard = SensitiveDataDetector.Detect("card ٤١١١ ١١١١ ١١١١ ١١١٢ please");

        Assert.Equal("payment_card", Assert.Single(card).Kind);
        Assert.DoesNotContain(badCard, m => m.Kind == "payment_card");
    }

    [Fact]
    public void Detect_LongMatchesAcrossTheScanWindows_AreFoundWhole()
    {
        // E-mail and numbers are matched in windows around '@' and digits; a match longer than its window is found by
        // scanning the whole text instead.
        var local = new string('a', 150);
        var text = "x " + local + "@example.com and " + new string('z', 5000) + " card 4111 1111 1111 1111.";

        var found = SensitiveDataDetector.Detect(text);

        var email = Assert.Single(found, m => m.Kind == "email");
        Assert.Equal(2, email.Start);
        Assert.Equal(local.Length + "@example.com".Length, email.Length);
        Assert.Single(found, m => m.Kind == "payment_card");
    }

    [Theory]
    [InlineData(10, 71, 0)]
    [InlineData(0, 200, 0)]
    [InlineData(0, 2, 120)]
    public void Detect_EmailWithLongParts_IsFoundWholeAndRedactedWhole(int head, int local, int domainLabel)
    {
        // The e-mail pattern runs only around '@', over the whole run of address characters: no length cuts it short.
        var address = (head > 0 ? new string('a', head) + "." : string.Empty) + new string('b', local) + "@"
            + (domainLabel > 0 ? new string('d', domainLabel) + ".ab-cd." : string.Empty) + "example.com";
        var text = "hello " + address + " thanks";

        var email = Assert.Single(SensitiveDataDetector.Detect(text), m => m.Kind == "email");

        Assert.Equal(6, email.Start);
        Assert.Equal(address.Length, email.Length);
        Assert.Equal("hello [REDACTED:email] thanks", SensitiveDataDetector.Redact(text, [email]));
    }

    [Fact]
    public void Detect_CredentialKeywordWithAKelvinSign_IsStillFound()
        // The pattern's (?i) folds U+212A to 'k'; the cheap keyword gate must not skip such text.
        => Assert.Contains(SensitiveDataDetector.Detect("api_\u212Aey = Ab3dEf9hIj2k"), m => m.Kind == "generic_credential");

    [Fact]
    public void Detect_IbanWithDigitsOfAnotherScript_IsNotAnIban()
    {
        // '\d' matches Arabic-Indic digits; an IBAN never has them, whatever the checksum arithmetic would say.
        for (var check = 0; check < 100; check++)
        {
            var digits = $"{(char)('\u0660' + (check / 10))}{(char)('\u0660' + (check % 10))}";

            Assert.DoesNotContain(SensitiveDataDetector.Detect($"IBAN DE{digits}500105175407324931 please"), m => m.Kind == "iban");
        }
    }

    [Fact]
    public void Redact_ReplacesEverySpanWithItsKind()
    {
        const string Text = "key sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH and mail jane@example.com";

        var redacted = SensitiveDataDetector.Redact(Text, SensitiveDataDetector.Detect(Text));

        Assert.Equal("key [REDACTED:openai_api_key] and mail [REDACTED:email]", redacted);
    }

    [Fact]
    public void Preview_NeverContainsTheSecret()
    {
        const string Text = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH";
        var match = Assert.Single(SensitiveDataDetector.Detect(Text));

        var preview = SensitiveDataDetector.Preview(Text, match);

        Assert.StartsWith("sk-p", preview, StringComparison.Ordinal);
        Assert.DoesNotContain("abcdefgh", preview, StringComparison.Ordinal);
    }
}

public sealed class CaptureRedactorReuseTests
{
    [Fact]
    public void Apply_WithTheGuardsMatches_RedactsFromThemWithoutScanningThePromptAgain()
    {
        const string Prompt = "user: my key is AKIAIOSFODNN7EXAMPLE, do not share it";
        var redactor = new CaptureRedactor(new LlmTrace.Tests.Costs.OptionsMonitorStub<SecurityOptions>(new SecurityOptions()));
        var trace = new LlmTrace.Domain.Capture.Trace { TraceId = Guid.NewGuid(), TenantId = Guid.NewGuid(), Provider = "openai", Endpoint = "/v1/x", Method = "POST", Prompt = Prompt };
        var guardMatches = SensitiveDataDetector.Detect(Prompt);

        var reused = redactor.Apply(trace, promptMatches: guardMatches);
        var trusted = redactor.Apply(trace, promptMatches: []);
        var scanned = redactor.Apply(trace);

        Assert.Equal(scanned.Prompt, reused.Prompt);
        Assert.DoesNotContain("AKIAIOSFODNN7EXAMPLE", reused.Prompt, StringComparison.Ordinal);
        Assert.Equal(scanned.Findings.Select(f => (f.Type, f.Start, f.Message)), reused.Findings.Select(f => (f.Type, f.Start, f.Message)));
        // An empty list from the guard is taken as the answer: the prompt is not scanned a second time.
        Assert.Equal(Prompt, trusted.Prompt);
    }
}

public sealed class GuardReuseTests
{
    [Fact]
    public void InjectionAnalyzer_AfterTheGuardRanTheSameAnalysis_ReusesItsVerdict_OtherwiseRunsItself()
    {
        var analyzer = new InjectionAnalyzer(new PromptInjectionDetector(), [], new LlmTrace.Tests.Costs.OptionsMonitorStub<SecurityOptions>(new SecurityOptions()));
        var guardFinding = new LlmTrace.Domain.Capture.Finding { Type = "jailbreak", Severity = LlmTrace.Domain.Capture.FindingSeverity.Medium, Location = "request", Detector = "guard.rules.injection", Confidence = 0.7 };
        var sensitive = guardFinding with { Type = "secret", Detector = RequestGuard.SensitiveDetector };
        var trace = new LlmTrace.Domain.Capture.Trace
        {
            TraceId = Guid.NewGuid(), TenantId = Guid.NewGuid(), Provider = "openai", Endpoint = "/v1/x", Method = "POST",
            Prompt = "user: What is the capital of France?", Findings = [guardFinding, sensitive], GuardAnalysis = "rules",
        };

        var reused = analyzer.Analyze(trace).ToList();
        var computed = analyzer.Analyze(trace with { GuardAnalysis = null }).ToList();
        var otherAnalysis = analyzer.Analyze(trace with { GuardAnalysis = "ensemble" }).ToList();

        // The benign prompt proves no second scan happened: the guard's verdict is what comes back.
        var finding = Assert.Single(reused);
        Assert.Equal(("jailbreak", "rules.injection"), (finding.Type, finding.Detector));
        Assert.Empty(computed);
        Assert.Empty(otherAnalysis);
    }
}
