using System.Security.Cryptography;

namespace PdRdma.Hosting.Clusters;

/// <summary>A cluster's scratch folder (logs, secret, etcd data) and its shared secret file.</summary>
public static class WorkDirectory
{
    /// <summary>A fresh folder under the temp folder, named after <paramref name="prefix"/>, this process and a random suffix.</summary>
    public static string Create(string prefix)
    {
        var path = Path.Combine(Path.GetTempPath(), $"{prefix}-{Environment.ProcessId}-{RandomNumberGenerator.GetHexString(6, lowercase: true)}");
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Writes a fresh 32-byte cluster secret to <paramref name="folder"/>/cluster.key, readable by its owner only.</summary>
    public static async Task<string> WriteSecretAsync(string folder, CancellationToken ct)
    {
        var secret = Path.Combine(folder, "cluster.key");
        await File.WriteAllBytesAsync(secret, RandomNumberGenerator.GetBytes(32), ct).ConfigureAwait(false);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(secret, UnixFileMode.UserRead);
        return secret;
    }

    /// <summary>Removes <paramref name="folder"/> and what is in it; a failure leaves it (it is temporary).</summary>
    public static void TryDelete(string folder)
    {
        try { Directory.Delete(folder, recursive: true); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
