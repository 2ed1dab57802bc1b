using LlmTrace.Domain.Security;
using Microsoft.Extensions.Configuration;
using LlmTrace.Domain;
using Microsoft.Extensions.DependencyInjection;

namespace LlmTrace.Ml;

public static class MlServiceCollectionExtensions
{
    public const string EnabledSetting = "LlmTrace:Security:Ml:Enabled";

    /// <summary>
    /// Registers a bring-your-own ONNX classifier when <c>LlmTrace:Security:Ml:Model:Path</c> is set; otherwise the
    /// built-in MiniLM classifier when <c>LlmTrace:Security:Ml:Enabled</c> is true. The model is loaded on
    /// first use, once per process (about 300 MB of memory, 0.4 s).
    /// </summary>
    public static IServiceCollection AddMlDetector(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddBreakers(); // every classifier runs behind its circuit breaker
        var custom = configuration.GetSection(SequenceClassifierOptions.SectionName).Get<SequenceClassifierOptions>();
        if (!string.IsNullOrWhiteSpace(custom?.Path))
        {
            // A bring-your-own model replaces the built-in one. Loaded now, so a wrong export stops the host at start-up.
            var loaded = new HuggingFaceSequenceClassifier(custom);
            services.AddSingleton<IInjectionClassifier>(sp => sp.GetRequiredService<LlmTrace.Domain.Resilience.Breakers>().Guard(loaded));
            return services;
        }

        if (configuration.GetValue<bool>(EnabledSetting))
        {
            services.AddSingleton<IInjectionClassifier>(sp => sp.GetRequiredService<LlmTrace.Domain.Resilience.Breakers>()
                .Guard(new MiniLmInjectionClassifier(SharedEmbedder.Instance, LinearHead.LoadEmbedded())));
        }

        return services;
    }
}

/// <summary>One embedder per process: the model is immutable and encoding is thread-safe.</summary>
internal static class SharedEmbedder
{
    private static readonly Lazy<MiniLmEmbedder> Lazy = new(() => new MiniLmEmbedder());

    public static MiniLmEmbedder Instance => Lazy.Value;
}
