using System.Collections.Frozen;
using System.Text.Json;
using System.Text.RegularExpressions;
using LlmTrace.Domain.Capture;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LlmTrace.Domain.Costs;

/// <summary>
/// Prices calls from a dated catalog: the one shipped in the assembly, plus an optional override file that is re-read
/// when it changes. Model names are normalised (case, provider prefixes, dated snapshots, version suffixes, Azure
/// spellings), then matched exactly; a name the catalog does not list is not priced.
/// </summary>
public sealed partial class PricingCatalog
{
    private const decimal PerMillion = 1_000_000m;
    private static readonly TimeSpan FileCheckInterval = TimeSpan.FromSeconds(5);
    private readonly IOptionsMonitor<PricingOptions> _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<PricingCatalog> _logger;
    private long _nextFileCheck;
    private readonly Lock _gate = new();
    private Snapshot _snapshot;
    private string? _loadedPath;
    private DateTime _loadedWrite;

    public PricingCatalog(IOptionsMonitor<PricingOptions> options, TimeProvider timeProvider, ILogger<PricingCatalog> logger)
    {
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
        _snapshot = Build(LoadShipped(), null);
    }

    public string CatalogDate => Current.Date;

    /// <summary>The price of a call, or null when the model has no entry.</summary>
    public TraceCost? Price(string provider, string? model, int? promptTokens, int? completionTokens, int? cachedPromptTokens)
        => Price(provider, model, promptTokens, completionTokens, cachedPromptTokens, null, null);

    /// <summary>
    /// The price of a call, or null when the model has no entry. Prompt tokens are split into cache reads, cache writes
    /// (five-minute and one-hour, each at its own rate) and the rest at the input rate.
    /// </summary>
    public TraceCost? Price(
        string provider, string? model, int? promptTokens, int? completionTokens, int? cachedPromptTokens, int? cacheWriteTokens, int? cacheWrite1hTokens)
    {
        var entry = Find(provider, model);
        if (entry is null)
        {
            return null;
        }

        var prompt = Math.Max(0, promptTokens ?? 0);
        var cached = Math.Clamp(cachedPromptTokens ?? 0, 0, prompt);
        var written = Math.Clamp(cacheWriteTokens ?? 0, 0, prompt - cached);
        var writtenHour = Math.Clamp(cacheWrite1hTokens ?? 0, 0, written);
        var input = (prompt - cached - written) * entry.Input / PerMillion;
        var cachedInput = cached * (entry.CachedInput ?? entry.Input) / PerMillion;
        var cacheWrite = ((written - writtenHour) * (entry.CacheWrite ?? entry.Input) / PerMillion)
            + (writtenHour * (entry.CacheWrite1h ?? entry.CacheWrite ?? entry.Input) / PerMillion);
        var output = Math.Max(0, completionTokens ?? 0) * entry.Output / PerMillion;
        return new TraceCost
        {
            Input = input,
            CachedInput = cachedInput,
            CacheWrite = cacheWrite,
            Output = output,
            Total = input + cachedInput + cacheWrite + output,
            PricedAs = entry.Model,
            CatalogDate = Current.Date,
        };
    }

    /// <summary>What a finished call cost, from the usage on its trace; null when it reported no usage or its model is unpriced.</summary>
    public TraceCost? Price(Trace trace)
        => trace.PromptTokens is null && trace.CompletionTokens is null
            ? null
            : Price(
                trace.Provider,
                trace.Model,
                trace.PromptTokens,
                trace.CompletionTokens,
                trace.CachedPromptTokens,
                trace.CacheWriteTokens,
                trace.CacheWrite1hTokens);

    /// <summary>The catalog entry a model name resolves to, or null.</summary>
    public ModelPrice? Find(string? provider, string? model) => FindListed(provider, model);

    /// <summary>The catalog entry the model is listed as, after dropping provider prefixes and dated-snapshot suffixes.</summary>
    public ModelPrice? FindExact(string? provider, string? model) => Find(provider, model);

    private ModelPrice? FindListed(string? provider, string? model)
    {
        if (string.IsNullOrWhiteSpace(model))
        {
            return null;
        }

        var snapshot = Current;
        var name = Normalize(model);
        if (provider is not null && snapshot.ByProvider.TryGetValue((provider, name), out var specific))
        {
            return specific;
        }

        if (snapshot.ByName.TryGetValue(name, out var exact))
        {
            return exact;
        }

        // No guess from a longer name: "o3-pro" is not "o3", nor "o1-pro" "o1". A model the catalog does not list (after
        // its dated-snapshot suffix is dropped) is unpriced, with an alert, until the catalog lists it.
        return null;
    }

    /// <summary>Lower-case, no provider prefix, no dated snapshot or numeric version suffix.</summary>
    public static string Normalize(string model)
    {
        var name = model.Trim().ToLowerInvariant();
        var slash = name.LastIndexOf('/');
        if (slash >= 0)
        {
            name = name[(slash + 1)..];
        }

        name = SnapshotSuffix().Replace(name, string.Empty);
        return name;
    }

    private Snapshot Current
    {
        get
        {
            var path = _options.CurrentValue.CatalogPath;
            if (string.IsNullOrWhiteSpace(path))
            {
                if (_loadedPath is not null)
                {
                    lock (_gate)
                    {
                        _snapshot = Build(LoadShipped(), null);
                        _loadedPath = null;
                    }
                }

                return _snapshot;
            }

            var now = _timeProvider.GetTimestamp();
            if (path == _loadedPath && now < Volatile.Read(ref _nextFileCheck))
            {
                return _snapshot;
            }

            Volatile.Write(ref _nextFileCheck, now + (long)(FileCheckInterval.TotalSeconds * _timeProvider.TimestampFrequency));
            var write = File.Exists(path) ? File.GetLastWriteTimeUtc(path) : DateTime.MinValue;
            if (path != _loadedPath || write != _loadedWrite)
            {
                lock (_gate)
                {
                    if (path != _loadedPath || write != _loadedWrite)
                    {
                        _snapshot = Build(LoadShipped(), LoadOverride(path));
                        _loadedPath = path;
                        _loadedWrite = write;
                    }
                }
            }

            return _snapshot;
        }
    }

    private PricingCatalogDocument? LoadOverride(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            var document = JsonSerializer.Deserialize(stream, PricingJsonContext.Default.PricingCatalogDocument);
            _logger.OverrideLoaded(path, document?.Models.Count ?? 0);
            return document;
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
            // Keep pricing from the shipped catalog rather than stop pricing altogether.
            _logger.OverrideUnreadable(path, ex);
            return null;
        }
    }

    private static PricingCatalogDocument LoadShipped()
    {
        using var stream = typeof(PricingCatalog).Assembly.GetManifestResourceStream("LlmTrace.pricing-catalog.json")
            ?? throw new InvalidOperationException("The shipped pricing catalog is missing from the assembly.");
        return JsonSerializer.Deserialize(stream, PricingJsonContext.Default.PricingCatalogDocument)!;
    }

    private static Snapshot Build(PricingCatalogDocument shipped, PricingCatalogDocument? overrides)
    {
        var byName = new Dictionary<string, ModelPrice>(StringComparer.Ordinal);
        var byProvider = new Dictionary<(string, string), ModelPrice>();
        foreach (var document in overrides is null ? [shipped] : new[] { shipped, overrides })
        {
            foreach (var price in document.Models)
            {
                foreach (var name in (price.Aliases ?? []).Prepend(price.Model))
                {
                    var key = Normalize(name);
                    if (price.Provider is null)
                    {
                        byName[key] = price;
                    }
                    else
                    {
                        byProvider[(price.Provider, key)] = price;
                    }
                }
            }
        }

        var date = overrides?.AsOf is { } overrideDate ? $"{shipped.AsOf}+{overrideDate}" : shipped.AsOf ?? "unknown";
        return new Snapshot(byName.ToFrozenDictionary(StringComparer.Ordinal), byProvider.ToFrozenDictionary(), date);
    }

    // Only what names a snapshot of the same model: a date (-2024-08-06, -20241022, @20241022), -latest, or Gemini's
    // three-digit revision (-001). Never a word that makes another model (-pro, -mini, -preview, -exp).
    [GeneratedRegex(@"([-@](\d{4}-\d{2}-\d{2}|\d{8}|latest|\d{3}))+$", RegexOptions.CultureInvariant)]
    private static partial Regex SnapshotSuffix();

    private sealed record Snapshot(FrozenDictionary<string, ModelPrice> ByName, FrozenDictionary<(string, string), ModelPrice> ByProvider, string Date);
}
