using System.Net.Sockets;
using MessagePack;
using Microsoft.Win32.SafeHandles;
using PdRdma.Interop.Libc;

namespace PdRdma.Transport.LevelZero.Internal;

/// <summary>One MessagePack message per SOCK_SEQPACKET datagram, optionally with one descriptor; untrusted input bounded.</summary>
internal static class ShareWire
{
    public const int MaxMessageBytes = 4096;

    private static readonly MessagePackSerializerOptions Options =
        MessagePackSerializerOptions.Standard.WithSecurity(MessagePackSecurity.UntrustedData);

    public static void Send<T>(Socket socket, T message, SafeFileHandle? descriptor)
    {
        RequireBlocking(socket);
        var bytes = MessagePackSerializer.Serialize(message, Options);
        try
        {
            UnixRights.Send(socket.SafeHandle, bytes, descriptor);
        }
        catch (IOException e)
        {
            throw new TransferException(TransferErrorCode.PeerLost, $"sending to the share peer failed: {e.Message}", e);
        }
    }

    /// <summary>The next message; PeerLost at end of stream or timeout, Protocol when it does not parse.</summary>
    public static T Receive<T>(Socket socket, out SafeFileHandle? descriptor)
    {
        RequireBlocking(socket);
        var buffer = new byte[MaxMessageBytes];
        int length;
        try
        {
            length = UnixRights.Receive(socket.SafeHandle, buffer, out descriptor);
        }
        catch (IOException e)
        {
            throw new TransferException(TransferErrorCode.PeerLost, $"receiving from the share peer failed: {e.Message}", e);
        }
        catch (InvalidDataException e)
        {
            throw new TransferException(TransferErrorCode.Protocol, e.Message, e);
        }
        if (length == 0)
        {
            descriptor?.Dispose();
            throw new TransferException(TransferErrorCode.PeerLost, "the share peer closed the connection");
        }
        try
        {
            return MessagePackSerializer.Deserialize<T>(buffer.AsMemory(0, length), Options);
        }
        catch (MessagePackSerializationException e)
        {
            descriptor?.Dispose();
            descriptor = null;
            throw new TransferException(TransferErrorCode.Protocol, $"malformed share message ({length} bytes): {e.Message}", e);
        }
    }

    // sendmsg/recvmsg go around .NET's socket engine: a socket used asynchronously is non-blocking underneath.
    private static void RequireBlocking(Socket socket)
    {
        if (!socket.Blocking) throw new ArgumentException("share sockets must be blocking (use Accept/Connect, not their async forms)", nameof(socket));
    }
}
