using System.Buffers;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Tenancy;

/// <summary>
/// Takes credentials out of text the host logs: the values of credential query parameters (<c>key</c>, <c>api-key</c>,
/// <c>code</c>, <c>sig</c>, …) in any URL, and gateway or provider keys wherever they appear. Applied to every log line
/// of the host, whatever its level or category (ASP.NET's request log writes the full URL at Information).
/// </summary>
internal static partial class CredentialRedaction
{
    public const string Mask = "***";

    private static readonly SearchValues<string> Markers = SearchValues.Create(
        ["key=", "token=", "code=", "sig=", "password=", "secret=", "ltk_", "sk-", "AIza"], StringComparison.OrdinalIgnoreCase);

    /// <summary>The text with every credential replaced by <see cref="Mask"/>; the same instance when there is none.</summary>
    public static string Redact(string text)
    {
        if (text.AsSpan().IndexOfAny(Markers) < 0)
        {
            return text;
        }

        var redacted = QueryCredential().Replace(text, static m => m.Groups["name"].Value + "=" + Mask);
        redacted = KeyLiteral().Replace(redacted, static m => m.Groups["prefix"].Value + Mask);
        return redacted == text ? text : redacted;
    }

    /// <summary>Wraps the host's logger factory so every logger it makes redacts credentials before any provider sees them.</summary>
    public static IServiceCollection AddCredentialRedaction(this IServiceCollection services)
    {
        services.RemoveAll<ILoggerFactory>();
        services.AddSingleton<ILoggerFactory>(sp => new RedactingLoggerFactory(new LoggerFactory(
            sp.GetServices<ILoggerProvider>(),
            sp.GetRequiredService<IOptionsMonitor<LoggerFilterOptions>>(),
            sp.GetService<IOptions<LoggerFactoryOptions>>(),
            sp.GetService<IExternalScopeProvider>())));
        return services;
    }

    // name=value in a URL or query string; the value runs to the next separator.
    [GeneratedRegex(
        @"(?<name>(?<![A-Za-z0-9_-])(?:key|api[-_]?key|x-goog-api-key|access[-_]?token|token|code|sig|password|secret|client[-_]?secret))=(?!\*\*\*)[^&\s""'<>#]+",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex QueryCredential();

    // Gateway keys (ltk_<id>_<secret>), OpenAI/Anthropic keys (sk-…), Google API keys (AIza…).
    [GeneratedRegex(@"(?<prefix>\bltk_|\bsk-(?:ant-|proj-|svcacct-)?|\bAIza)(?!\*\*\*)[A-Za-z0-9_\-]{8,}", RegexOptions.CultureInvariant)]
    private static partial Regex KeyLiteral();

    private sealed class RedactingLoggerFactory(ILoggerFactory inner) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => new RedactingLogger(inner.CreateLogger(categoryName));

        public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

        public void Dispose() => inner.Dispose();
    }

    private sealed class RedactingLogger(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!inner.IsEnabled(logLevel))
            {
                return;
            }

            if (state is IReadOnlyList<KeyValuePair<string, object?>> values)
            {
                // Structured state: only its string values can carry a credential (the template is the program's own).
                KeyValuePair<string, object?>[]? redacted = null;
                for (var i = 0; i < values.Count; i++)
                {
                    if (values[i].Value is { } value and (string or Uri) || values[i].Value?.GetType().Namespace == "Microsoft.AspNetCore.Http")
                    {
                        var text = values[i].Value!.ToString() ?? string.Empty;
                        var clean = Redact(text);
                        if (!ReferenceEquals(clean, text))
                        {
                            redacted ??= [.. values];
                            redacted[i] = new(values[i].Key, clean);
                        }
                    }
                }

                if (redacted is null)
                {
                    inner.Log(logLevel, eventId, state, exception, formatter);
                    return;
                }

                inner.Log(logLevel, eventId, new RedactedState(redacted, Redact(formatter(state, exception))), exception, static (s, _) => s.Message);
                return;
            }

            var message = formatter(state, exception);
            var safe = Redact(message);
            if (ReferenceEquals(safe, message))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
                return;
            }

            inner.Log(logLevel, eventId, new RedactedState([], safe), exception, static (s, _) => s.Message);
        }
    }

    private sealed class RedactedState(KeyValuePair<string, object?>[] values, string message) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public string Message { get; } = message;

        public int Count => values.Length;

        public KeyValuePair<string, object?> this[int index] => values[index];

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)values).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => Message;
    }
}
