using System.Buffers.Binary;
using System.Security.Cryptography;
using PdRdma.Transport.Internal.Wire;

namespace PdRdma.Transport.Internal;

/// <summary>Running SHA-256 over every handshake frame (type, length, body) in the order both sides saw them.</summary>
internal sealed class HandshakeTranscript : IDisposable
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public void Add(MessageType type, ReadOnlySpan<byte> body)
    {
        Span<byte> header = stackalloc byte[5];
        header[0] = (byte)type;
        BinaryPrimitives.WriteInt32LittleEndian(header[1..], body.Length);
        _hash.AppendData(header);
        _hash.AppendData(body);
    }

    /// <summary>The hash of everything added so far (the transcript goes on).</summary>
    public byte[] Hash() => _hash.GetCurrentHash();

    public void Dispose() => _hash.Dispose();
}
