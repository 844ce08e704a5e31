using System.Buffers.Binary;
using System.Net.Sockets;

namespace PdRdma.Daemon.Engine;

/// <summary>Who is at the other end of a Unix socket, as the kernel recorded it at connect (SO_PEERCRED, SO_PEERGROUPS): not what the peer says.</summary>
public readonly record struct PeerCredentials(int Pid, int Uid, int Gid, IReadOnlyList<int> Groups)
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;
    private const int SoPeerGroups = 59;
    private const int MaxGroups = 1024;

    /// <summary>Reads the peer's credentials of a connected Unix-domain socket; throws SocketException when the kernel has none.</summary>
    public static PeerCredentials Of(Socket socket)
    {
        Span<byte> ucred = stackalloc byte[12];
        var length = socket.GetRawSocketOption(SolSocket, SoPeerCred, ucred);
        if (length < 12) throw new SocketException((int)SocketError.ProtocolOption);
        return new PeerCredentials(BinaryPrimitives.ReadInt32LittleEndian(ucred), BinaryPrimitives.ReadInt32LittleEndian(ucred[4..]), BinaryPrimitives.ReadInt32LittleEndian(ucred[8..]), SupplementaryGroups(socket));
    }

    /// <summary>The peer's supplementary groups at connect (SO_PEERGROUPS, Linux 4.13+); empty where the kernel has none to give.</summary>
    private static int[] SupplementaryGroups(Socket socket)
    {
        var buffer = new byte[MaxGroups * sizeof(int)];
        try
        {
            var length = socket.GetRawSocketOption(SolSocket, SoPeerGroups, buffer);
            var groups = new int[length / sizeof(int)];
            for (var i = 0; i < groups.Length; i++) groups[i] = BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(i * sizeof(int)));
            return groups;
        }
        catch (SocketException)
        {
            return [];
        }
    }

    public override string ToString() => $"pid {Pid}, uid {Uid}, gid {Gid}, groups [{string.Join(',', Groups)}]";
}
