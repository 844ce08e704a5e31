using System.Text.Json;
using System.Text.Json.Serialization;

namespace PdRdma.Perf.Reporting;

/// <summary>The JSON conventions of every benchmark output: snake_case keys, numbers as numbers, one object per line.</summary>
public static class BenchJson
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static JsonSerializerOptions Indented { get; } = new(Options) { WriteIndented = true };

    /// <summary>One compact line.</summary>
    public static string Line<T>(T value) => JsonSerializer.Serialize(value, Options);

    public static T? Parse<T>(string line) => JsonSerializer.Deserialize<T>(line, Options);
}
