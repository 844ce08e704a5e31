namespace PdRdma.Engines.Serving;

/// <summary>A request failure with the HTTP status and OpenAI error type the client receives.</summary>
public sealed class ServingException(int status, string type, string message, Exception? inner = null) : Exception(message, inner)
{
    public int Status { get; } = status;

    public string Type { get; } = type;
}
