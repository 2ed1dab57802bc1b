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
/// spellings), then matched exactly, then by the longest catalog name they start with.
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
    {
        var entry = Find(provider, model);
        if (entry is null)
        {
            return null;
        }

        var prompt = Math.Max(0, promptTokens ?? 0);
        var cached = Math.Clamp(cachedPromptTokens ?? 0, 0, prompt);
        var input = (prompt - cached) * entry.Input / PerMillion;
        var cachedInput = cached * (entry.CachedInput ?? entry.Input) / PerMillion;
        var output = Math.Max(0, completionTokens ?? 0) * entry.Output / PerMillion;
        return new TraceCost
        {
            Input = input,
            CachedInput = cachedInput,
            Output = output,
            Total = input + cachedInput + output,
            PricedAs = entry.Model,
            CatalogDate = Current.Date,
        };
    }

    /// <summary>The catalog entry a model name resolves to, or null.</summary>
    public ModelPrice? Find(string? provider, string? model) => Find(provider, model, listedOnly: false);

    /// <summary>
    /// The catalog entry the model is listed as, after dropping provider prefixes and dated or numbered suffixes, but
    /// without the longest-prefix guess ("o3-mini-high" priced as "o3-mini"), which can also price "o1-pro" as "o1".
    /// </summary>
    public ModelPrice? FindExact(string? provider, string? model) => Find(provider, model, listedOnly: true);

    private ModelPrice? Find(string? provider, string? model, bool listedOnly)
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

        if (listedOnly)
        {
            return null;
        }

        // Longest catalog name that the model starts with, on a '-' boundary: "o3-mini-high" → "o3-mini".
        ModelPrice? best = null;
        foreach (var (key, price) in snapshot.ByName)
        {
            if (name.Length > key.Length && name.StartsWith(key, StringComparison.Ordinal) && name[key.Length] == '-'
                && (best is null || key.Length > best.Model.Length))
            {
                best = price;
            }
        }

        return best;
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

    // -2024-08-06, -20241022, @20241022, -latest, -preview, -001, -exp-0827
    [GeneratedRegex(@"([-@](\d{4}-\d{2}-\d{2}|\d{8}|latest|preview|\d{3}|exp(-\d{4})?))+$", RegexOptions.CultureInvariant)]
    private static partial Regex SnapshotSuffix();

    private sealed record Snapshot(FrozenDictionary<string, ModelPrice> ByName, FrozenDictionary<(string, string), ModelPrice> ByProvider, string Date);
}
