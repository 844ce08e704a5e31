namespace PdRdma.Engines.Loading;

/// <summary>A checkpoint or tokenizer that is missing, truncated, malformed or unsupported; names the file and the field.</summary>
public sealed class ModelLoadException : Exception
{
    public ModelLoadException(string file, string field, string problem, Exception? inner = null)
        : base($"{file}: {field}: {problem}", inner)
    {
        File = file;
        Field = field;
    }

    public string File { get; }

    public string Field { get; }
}
