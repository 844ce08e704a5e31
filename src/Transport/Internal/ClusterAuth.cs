using System.Security.Cryptography;
using System.Text;

namespace PdRdma.Transport.Internal;

/// <summary>
/// Mutual challenge–response: each side proves it holds the cluster secret by an HMAC-SHA256 over both fresh nonces
/// and both node ids, labelled by role so a proof cannot be reflected back. The secret never leaves the process.
/// </summary>
internal static class ClusterAuth
{
    public const int NonceBytes = 32;

    public static byte[] NewNonce() => RandomNumberGenerator.GetBytes(NonceBytes);

    public static byte[] TargetProof(byte[] secret, byte[] initiatorNonce, byte[] targetNonce, string initiatorNode, string targetNode) =>
        Proof(secret, "pdrdma/v1/target", initiatorNonce, targetNonce, initiatorNode, targetNode);

    public static byte[] InitiatorProof(byte[] secret, byte[] initiatorNonce, byte[] targetNonce, string initiatorNode, string targetNode) =>
        Proof(secret, "pdrdma/v1/initiator", initiatorNonce, targetNonce, initiatorNode, targetNode);

    public static bool Matches(byte[] expected, byte[]? received) =>
        received is not null && CryptographicOperations.FixedTimeEquals(expected, received);

    private static byte[] Proof(byte[] secret, string role, byte[] initiatorNonce, byte[] targetNonce, string initiatorNode, string targetNode)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, secret);
        Span<byte> length = stackalloc byte[4];
        foreach (var part in new[] { Encoding.UTF8.GetBytes(role), initiatorNonce, targetNonce, Encoding.UTF8.GetBytes(initiatorNode), Encoding.UTF8.GetBytes(targetNode) })
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(length, part.Length);
            hmac.AppendData(length);
            hmac.AppendData(part);
        }
        return hmac.GetHashAndReset();
    }
}
