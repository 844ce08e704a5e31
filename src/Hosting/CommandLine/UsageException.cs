namespace PdRdma.Hosting.CommandLine;

/// <summary>A command line that parses but that the command cannot take (values that contradict each other, a value out of range): one line and exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);
