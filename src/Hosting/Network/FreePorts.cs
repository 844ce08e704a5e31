using System.Net;
using System.Net.Sockets;

namespace PdRdma.Hosting.Network;

/// <summary>Loopback TCP ports that were free when asked (bound to port 0 together, then released).</summary>
public static class FreePorts
{
    /// <summary><paramref name="count"/> distinct loopback ports, free at the time of the call.</summary>
    public static int[] Take(int count)
    {
        var sockets = new List<Socket>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                sockets.Add(socket);
                socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            }
            return sockets.Select(s => ((IPEndPoint)s.LocalEndPoint!).Port).ToArray();
        }
        finally
        {
            foreach (var socket in sockets) socket.Dispose();
        }
    }

    /// <summary>One free loopback port (also a port nothing listens on, for refused-connection tests).</summary>
    public static int One() => Take(1)[0];
}
