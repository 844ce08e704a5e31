using System.Security.Cryptography;
using System.Text;

namespace PdRdma.Transport.Internal;

/// <summary>
/// Protocol version 2 authentication. Each side proves it holds the cluster secret by an HMAC-SHA256 over the hash of
/// the handshake transcript so far (every handshake frame, byte for byte, in order), labelled by role so a proof cannot
/// be reflected; the initiator proves first and the target answers only after checking it. Session keys, one per
/// direction, come from HKDF-SHA256 over the secret with the whole transcript's hash as salt, so a relay that altered
/// any handshake byte (a node id, a nonce, a region descriptor) ends up with keys that fail the first frame.
/// The secret never leaves the process.
/// </summary>
internal static class ClusterAuth
{
    public const int NonceBytes = 32;

    /// <summary>Shortest cluster secret accepted: 256 bits, the strength of the keys derived from it.</summary>
    public const int MinSecretBytes = 32;

    public const string SecretFix = "make one with `head -c 32 /dev/urandom > cluster.key && chmod 0400 cluster.key` and give every node the same file";

    public static byte[] NewNonce() => RandomNumberGenerator.GetBytes(NonceBytes);

    /// <summary>Refuses a secret too short to key a session, naming the fix.</summary>
    public static void EnsureStrong(byte[]? secret)
    {
        if (secret is not null && secret.Length < MinSecretBytes)
        {
            throw new ArgumentException($"the cluster secret has {secret.Length} bytes; at least {MinSecretBytes} random bytes are required: {SecretFix}", "options");
        }
    }

    public static byte[] InitiatorProof(byte[] secret, ReadOnlySpan<byte> transcriptHash) => Proof(secret, "pdrdma/v2/initiator", transcriptHash);

    public static byte[] TargetProof(byte[] secret, ReadOnlySpan<byte> transcriptHash) => Proof(secret, "pdrdma/v2/target", transcriptHash);

    public static bool Matches(byte[] expected, byte[]? received) =>
        received is not null && CryptographicOperations.FixedTimeEquals(expected, received);

    /// <summary>The two directions' session keys (initiator → target, target → initiator), 256 bits each.</summary>
    public static (byte[] InitiatorToTarget, byte[] TargetToInitiator) SessionKeys(byte[] secret, byte[] transcriptHash)
    {
        var keys = HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, 64, transcriptHash, Encoding.ASCII.GetBytes("pdrdma/v2 session keys"));
        return (keys[..32], keys[32..]);
    }

    private static byte[] Proof(byte[] secret, string role, ReadOnlySpan<byte> transcriptHash)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, secret);
        hmac.AppendData(Encoding.ASCII.GetBytes(role));
        hmac.AppendData(transcriptHash);
        return hmac.GetHashAndReset();
    }
}
