using System.Buffers.Binary;
using System.Security.Cryptography;

namespace PdRdma.Transport.Internal;

/// <summary>
/// One direction of an authenticated session: AES-256-GMAC (AES-GCM with nothing to encrypt and the bytes as associated
/// data) under that direction's key, with the nonce made of an implicit sequence number that both sides count. A frame
/// that was injected, altered, replayed, reordered or dropped fails the next check. Not thread-safe: the sending side
/// is used under the connection's send lock, the receiving side by its one reader.
/// </summary>
internal sealed class FrameMac : IDisposable
{
    public const int TagBytes = 16;

    private readonly AesGcm _gcm;
    private ulong _sequence;

    public FrameMac(byte[] key) => _gcm = new AesGcm(key, TagBytes);

    /// <summary>Frames (and data payloads) authenticated so far; the next one's sequence number.</summary>
    public ulong Sequence => _sequence;

    public void Sign(ReadOnlySpan<byte> bytes, Span<byte> tag)
    {
        Span<byte> nonce = stackalloc byte[12];
        NextNonce(nonce);
        _gcm.Encrypt(nonce, ReadOnlySpan<byte>.Empty, Span<byte>.Empty, tag, bytes);
    }

    public bool Verify(ReadOnlySpan<byte> bytes, ReadOnlySpan<byte> tag)
    {
        Span<byte> nonce = stackalloc byte[12];
        NextNonce(nonce);
        try
        {
            _gcm.Decrypt(nonce, ReadOnlySpan<byte>.Empty, tag, Span<byte>.Empty, bytes);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }

    /// <summary>Counts a payload that is discarded unread (a refused chunk), keeping both sides' sequences in step.</summary>
    public void Skip()
    {
        Span<byte> nonce = stackalloc byte[12];
        NextNonce(nonce);
    }

    public void Dispose() => _gcm.Dispose();

    private void NextNonce(Span<byte> nonce)
    {
        // 2^64 frames is beyond any connection's life; wrapping would reuse a nonce, so it is refused.
        if (_sequence == ulong.MaxValue) throw new TransferException(TransferErrorCode.Protocol, "session sequence numbers exhausted; reconnect");
        nonce[..4].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(nonce[4..], _sequence++);
    }
}
