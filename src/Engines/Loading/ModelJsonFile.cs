using System.Text.Json;

namespace PdRdma.Engines.Loading;

/// <summary>Opens a checkpoint's JSON file (config.json, tokenizer.json) or fails naming the file and what is wrong.</summary>
internal static class ModelJsonFile
{
    /// <summary>The parsed document, owned by the caller; <paramref name="missing"/> is the message when the file is absent.</summary>
    public static JsonDocument Open(string path, string missing)
    {
        if (!File.Exists(path)) throw new ModelLoadException(path, "file", missing);
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new ModelLoadException(path, "json", $"not valid JSON ({e.Message})", e);
        }
    }
}
