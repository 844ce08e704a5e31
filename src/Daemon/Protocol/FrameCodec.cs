using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using MessagePack;
using PdRdma.Transport;
using PdRdma.Transport.Serialization;

namespace PdRdma.Daemon.Protocol;

/// <summary>
/// Length-prefixed MessagePack frames over System.IO.Pipelines: 4-byte little-endian length, then the body.
/// Untrusted input is read with MessagePack's untrusted-data options and a size limit. Not thread-safe:
/// one reader and one writer (callers serialise writes).
/// </summary>
public static class FrameCodec
{
    public static readonly MessagePackSerializerOptions Options =
        MessagePackSerializerOptions.Standard
            .WithResolver(ReflectionFormatterResolver.ForRuntime(allowPrivate: false))
            .WithSecurity(MessagePackSecurity.UntrustedData);

    /// <summary>Reads one frame; null at a clean end of stream. Throws <see cref="TransferException"/> (Protocol) on bad input.</summary>
    public static async ValueTask<T?> ReadAsync<T>(PipeReader reader, int maxBytes, CancellationToken ct) where T : class
    {
        while (true)
        {
            var result = await reader.ReadAsync(ct).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.Length >= 4)
            {
                var length = ReadLength(buffer);
                if (length <= 0 || length > maxBytes)
                {
                    reader.AdvanceTo(buffer.Start);
                    throw new TransferException(TransferErrorCode.Protocol, $"frame of {length} bytes is outside (0, {maxBytes}]");
                }
                if (buffer.Length >= 4 + length)
                {
                    var body = buffer.Slice(4, length);
                    T? value;
                    try
                    {
                        value = MessagePackSerializer.Deserialize<T>(body, Options, ct);
                    }
                    catch (MessagePackSerializationException e)
                    {
                        reader.AdvanceTo(buffer.Start);
                        throw new TransferException(TransferErrorCode.Protocol, $"undecodable {typeof(T).Name} frame: {e.Message}", e);
                    }
                    reader.AdvanceTo(body.End);
                    return value ?? throw new TransferException(TransferErrorCode.Protocol, "empty frame");
                }
            }
            if (result.IsCompleted)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (buffer.Length == 0) return null;
                throw new TransferException(TransferErrorCode.Protocol, $"stream ended inside a frame ({buffer.Length} bytes pending)");
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static int ReadLength(ReadOnlySequence<byte> buffer)
    {
        Span<byte> header = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(header);
        return BinaryPrimitives.ReadInt32LittleEndian(header);
    }

    /// <summary>Writes and flushes one frame. The caller serialises concurrent writers.</summary>
    public static async ValueTask WriteAsync<T>(PipeWriter writer, T frame, CancellationToken ct)
    {
        var body = new ArrayBufferWriter<byte>(256);
        MessagePackSerializer.Serialize(body, frame, Options, ct);
        var header = writer.GetSpan(4);
        BinaryPrimitives.WriteInt32LittleEndian(header, body.WrittenCount);
        writer.Advance(4);
        writer.Write(body.WrittenSpan);
        var flush = await writer.FlushAsync(ct).ConfigureAwait(false);
        if (flush.IsCompleted) throw new TransferException(TransferErrorCode.PeerLost, "connection closed while writing");
    }
}
