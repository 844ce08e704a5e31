using System.Net;
using System.Net.Sockets;

namespace PdRdma.Perf.Processes;

/// <summary>
/// Free TCP ports in the benchmarks' own range (45000-45999), so that benchmark runs never take ports other parts
/// of the project or other tests use. Probes by binding on loopback; a port is only free at the time of the probe.
/// </summary>
public static class PortPicker
{
    public const int First = 45000;
    public const int Last = 45999;
    private static int _next = First + Random.Shared.Next(0, Last - First);

    public static int Next()
    {
        for (var attempt = 0; attempt <= Last - First; attempt++)
        {
            var port = First + (Interlocked.Increment(ref _next) - First) % (Last - First + 1);
            if (IsFree(port)) return port;
        }
        throw new InvalidOperationException($"no free TCP port in {First}-{Last}");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
