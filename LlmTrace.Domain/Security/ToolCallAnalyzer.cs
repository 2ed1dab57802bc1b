using System.Text.RegularExpressions;
using LlmTrace.Domain.Capture;

namespace LlmTrace.Domain.Security;

/// <summary>
/// Dangerous tool calls in requests and responses: destructive shell commands, pipe-to-shell downloads, reverse shells,
/// credential file access, destructive SQL and exfiltration endpoints.
/// </summary>
internal sealed partial class ToolCallAnalyzer : ISecurityAnalyzer
{
    private static readonly (string Id, string Type, FindingSeverity Severity, Regex Pattern)[] Rules =
    [
        ("tool.destructive-shell", "unsafe_tool_call", FindingSeverity.Critical, DestructiveShell()),
        ("tool.pipe-to-shell", "unsafe_tool_call", FindingSeverity.Critical, PipeToShell()),
        ("tool.reverse-shell", "unsafe_tool_call", FindingSeverity.Critical, ReverseShell()),
        ("tool.credential-access", "unsafe_tool_call", FindingSeverity.High, CredentialFiles()),
        ("tool.destructive-sql", "unsafe_tool_call", FindingSeverity.High, DestructiveSql()),
        ("tool.exfiltration-url", "data_exfiltration", FindingSeverity.High, ExfiltrationUrl()),
    ];

    public string Name => "rules.tool-calls";

    public IEnumerable<Finding> Analyze(Trace trace)
    {
        foreach (var call in trace.ToolCalls)
        {
            // Arguments are JSON: unescape so that "rm -rf \/" and "\u0026" read as the command they carry.
            var text = Regex.Unescape(call.Name + " " + (call.Arguments ?? string.Empty));
            foreach (var (id, type, severity, pattern) in Rules)
            {
                if (pattern.IsMatch(text))
                {
                    yield return new Finding
                    {
                        Type = type,
                        Severity = severity,
                        Confidence = 0.9,
                        Location = "tool_call",
                        Detector = Name,
                        Message = $"{id} in {call.Source} tool call '{call.Name}'",
                    };
                }
            }
        }
    }

    [GeneratedRegex(@"\brm\s+(-[a-zA-Z]*[rf][a-zA-Z]*\s+)+(--no-preserve-root\s+)?(/|~|\*|\$HOME|/\*|\.\s|\.$)|\bmkfs(\.\w+)?\b|\bdd\s+if=\S+\s+of=/dev/(sd|nvme|hd|xvd)|:\(\)\s*\{\s*:\|:&\s*\};:|\bchmod\s+-R\s+0?777\s+/(\s|$)|\bformat\s+[a-z]:|\bdel\s+/[sq]\s+/[sq]|Remove-Item\b[^\n]*-Recurse[^\n]*-Force|\bshred\s+-[a-z]*\s+/dev/", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex DestructiveShell();

    [GeneratedRegex(@"\b(curl|wget|fetch)\b[^|\n]{0,200}\|\s*(sudo\s+)?(ba|z|k|da)?sh\b|\b(curl|wget)\b[^|\n]{0,200}\|\s*(python[0-9.]*|perl|ruby|node)\b|\biex\s*\(?\s*(\(?new-object\s+net\.webclient|iwr|invoke-webrequest|irm|invoke-restmethod)|\bsh\s+-c\s+""?\$\((curl|wget)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PipeToShell();

    [GeneratedRegex(@"/dev/tcp/\d{1,3}(\.\d{1,3}){3}/\d+|\b(nc|ncat|netcat)\b[^\n]{0,80}\s-(e|c)\s+(/bin/)?(ba)?sh\b|\bsocat\b[^\n]{0,80}exec:|\bbash\s+-i\s+>&|socket\.socket\([^\n]{0,200}(subprocess|pty\.spawn|os\.dup2)|\bmkfifo\b[^\n]{0,80}\bnc\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ReverseShell();

    [GeneratedRegex(@"/etc/(shadow|gshadow|sudoers)\b|/etc/passwd\b|(~|\$HOME|/home/\w+|/root)/\.ssh/(id_[a-z0-9]+\b(?!\.pub)|authorized_keys)|\.aws/credentials|\.kube/config|\.git-credentials|\.docker/config\.json|\.netrc\b|/proc/self/environ|\bid_(rsa|ed25519|ecdsa)\b(?!\.pub)|\.env(\.local|\.production)?\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex CredentialFiles();

    [GeneratedRegex(@"\bdrop\s+(table|database|schema|user)\b|\btruncate\s+(table\s+)?\w+|\bdelete\s+from\s+[\w.\[\]""`]+\s*(;|$|--)|\balter\s+table\s+\w+\s+drop\b|\bgrant\s+all\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex DestructiveSql();

    [GeneratedRegex(@"https?://[^\s""']*(webhook\.site|requestbin|pipedream\.net|ngrok(-free)?\.(io|app)|burpcollaborator|interact\.sh|oast\.(fun|pro|live)|pastebin\.com|transfer\.sh|requestcatcher)|\bcurl\b[^\n]{0,120}(-d|--data(-binary)?|-F|--upload-file|-T)\s+@?(/etc/|~/\.|\$HOME/\.|\S*\.(env|pem|key)\b)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ExfiltrationUrl();
}
