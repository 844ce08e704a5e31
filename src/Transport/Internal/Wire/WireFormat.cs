using MessagePack;
using PdRdma.Transport.Serialization;

namespace PdRdma.Transport.Internal.Wire;

/// <summary>
/// Frames: [u32 little-endian body length][body]; body = [u8 <see cref="MessageType"/>][MessagePack message][16-byte MAC once authenticated].
/// A data chunk's frame is followed by its raw payload. Everything from a peer is untrusted.
/// </summary>
internal static class WireFormat
{
    /// <summary>Bumped on any incompatible change; a peer with another version gets VersionMismatch naming both. 2: authenticated frames, no proceed round trip on tcp, grants named per batch.</summary>
    public const int ProtocolVersion = 2;

    public const int FrameHeaderBytes = 5;

    public static readonly MessagePackSerializerOptions Options = MessagePackSerializerOptions.Standard
        .WithResolver(ReflectionFormatterResolver.ForRuntime(allowPrivate: true))
        .WithSecurity(MessagePackSecurity.UntrustedData.WithMaximumObjectGraphDepth(16));

    public static T Deserialize<T>(MessageType type, ReadOnlyMemory<byte> body)
    {
        try
        {
            return MessagePackSerializer.Deserialize<T>(body, Options)
                ?? throw new TransferException(TransferErrorCode.Protocol, $"{type} frame decodes to nothing");
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or ArgumentException or InvalidOperationException or OverflowException or FormatException or EndOfStreamException)
        {
            throw new TransferException(TransferErrorCode.Protocol, $"malformed {type} frame: {ex.GetBaseException().Message}", ex);
        }
    }
}
