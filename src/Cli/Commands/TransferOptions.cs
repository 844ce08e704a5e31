using System.CommandLine;

namespace PdRdma.Cli.Commands;

/// <summary>The --secret-file option the transfer commands share.</summary>
internal static class TransferOptions
{
    /// <summary>The cluster secret file option (absent: no authentication).</summary>
    public static Option<FileInfo> SecretFile() => new("--secret-file") { Description = "file holding the cluster secret (both peers use the same)", HelpName = "FILE" };

    /// <summary>The secret's bytes, or null without a file; a missing or unreadable file is a usage error.</summary>
    public static byte[]? ReadSecret(FileInfo? file)
    {
        if (file is null) return null;
        try
        {
            return File.ReadAllBytes(file.FullName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new Hosting.CommandLine.UsageException($"--secret-file {file.FullName}: {e.Message}");
        }
    }
}
