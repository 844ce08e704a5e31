using System.Security.Cryptography;
using System.Text;

namespace PdRdma.Daemon.Fabric.Interim;

/// <summary>
/// Mutual challenge–response from the cluster secret: each side proves knowledge of the secret with an HMAC over
/// both nonces and both node ids, bound to its role; the secret itself never crosses the wire.
/// </summary>
internal static class ChallengeResponse
{
    public static byte[] NewNonce() => RandomNumberGenerator.GetBytes(32);

    public static byte[] Prove(byte[] secret, string role, byte[] ownNonce, byte[] peerNonce, string ownId, string peerId)
    {
        var message = new List<byte>();
        message.AddRange(Encoding.UTF8.GetBytes($"pdrdma-peer-v{PeerFrame.CurrentVersion}|{role}|{ownId}|{peerId}|"));
        message.AddRange(peerNonce);
        message.AddRange(ownNonce);
        return HMACSHA256.HashData(secret, message.ToArray());
    }

    public static bool Verify(byte[] expected, byte[]? actual) =>
        actual is not null && CryptographicOperations.FixedTimeEquals(expected, actual);
}
