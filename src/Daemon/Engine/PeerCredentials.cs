using System.Buffers.Binary;
using System.Net.Sockets;

namespace PdRdma.Daemon.Engine;

/// <summary>Who is at the other end of a Unix socket, as the kernel recorded it at connect (SO_PEERCRED): not what the peer says.</summary>
public readonly record struct PeerCredentials(int Pid, int Uid, int Gid)
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    /// <summary>Reads the peer's credentials of a connected Unix-domain socket; throws SocketException when the kernel has none.</summary>
    public static PeerCredentials Of(Socket socket)
    {
        Span<byte> ucred = stackalloc byte[12];
        var length = socket.GetRawSocketOption(SolSocket, SoPeerCred, ucred);
        if (length < 12) throw new SocketException((int)SocketError.ProtocolOption);
        return new PeerCredentials(BinaryPrimitives.ReadInt32LittleEndian(ucred), BinaryPrimitives.ReadInt32LittleEndian(ucred[4..]), BinaryPrimitives.ReadInt32LittleEndian(ucred[8..]));
    }

    public override string ToString() => $"pid {Pid}, uid {Uid}, gid {Gid}";
}
