using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace PdRdma.Perf.Baselines;

/// <summary>
/// The two ends of a raw .NET TCP ping-pong (the <c>bench pingpong</c> process): what the runtime itself costs for one
/// small message each way, without any of the transport's framing, MACs or batching. <see cref="Mode.Blocking"/>: one
/// thread in a blocking receive on each side, as qperf does it in C; <see cref="Mode.Async"/>: awaited socket operations,
/// each receive completed through the runtime's socket engine and thread pool.
/// </summary>
public static class SocketPingPong
{
    /// <summary>How each side waits for the next message.</summary>
    public enum Mode
    {
        Blocking,
        Async,
    }

    /// <summary>Echoes fixed-size messages back until the peer closes; one connection at a time.</summary>
    public static async Task ServeAsync(IPEndPoint listen, int size, Mode mode, TextWriter output, CancellationToken ct)
    {
        using var listener = new Socket(listen.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(listen);
        listener.Listen(4);
        await output.WriteLineAsync($"ready {listener.LocalEndPoint}");
        await output.FlushAsync(ct);
        while (!ct.IsCancellationRequested)
        {
            using var socket = await listener.AcceptAsync(ct);
            socket.NoDelay = true;
            var buffer = new byte[size];
            if (mode == Mode.Blocking)
            {
                var thread = new Thread(() =>
                {
                    try
                    {
                        while (Fill(socket, buffer)) socket.Send(buffer);
                    }
                    catch (SocketException)
                    {
                    }
                }) { IsBackground = true, Name = "pingpong-echo" };
                thread.Start();
                await Task.Run(thread.Join, ct);
            }
            else
            {
                try
                {
                    while (await FillAsync(socket, buffer, ct)) await socket.SendAsync(buffer, ct);
                }
                catch (SocketException)
                {
                }
            }
        }
    }

    /// <summary>Round trips of <paramref name="size"/> bytes for <paramref name="duration"/>: (p50, p99) in microseconds.</summary>
    public static async Task<(double P50, double P99, int Samples)> MeasureAsync(IPEndPoint peer, int size, Mode mode, TimeSpan duration, CancellationToken ct)
    {
        using var socket = new Socket(peer.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(peer, ct);
        var buffer = new byte[size];
        var samples = new List<double>(1 << 16);
        var clock = Stopwatch.StartNew();
        if (mode == Mode.Blocking)
        {
            var thread = new Thread(() =>
            {
                while (clock.Elapsed < duration && samples.Count < 1_000_000)
                {
                    var start = Stopwatch.GetTimestamp();
                    socket.Send(buffer);
                    if (!Fill(socket, buffer)) break;
                    samples.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
                }
            }) { IsBackground = true, Name = "pingpong" };
            thread.Start();
            await Task.Run(thread.Join, ct);
        }
        else
        {
            while (clock.Elapsed < duration && samples.Count < 1_000_000)
            {
                var start = Stopwatch.GetTimestamp();
                await socket.SendAsync(buffer, ct);
                if (!await FillAsync(socket, buffer, ct)) break;
                samples.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
            }
        }
        socket.Shutdown(SocketShutdown.Both);
        // the first round trips pay for connection set-up and JIT; the steady state is what is compared
        var steady = samples.Skip(Math.Min(samples.Count / 10, 1000)).ToList();
        steady.Sort();
        return (Percentile(steady, 0.5), Percentile(steady, 0.99), steady.Count);
    }

    private static double Percentile(List<double> sorted, double q) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Floor(q * sorted.Count))];

    private static bool Fill(Socket socket, byte[] buffer)
    {
        for (var at = 0; at < buffer.Length;)
        {
            var n = socket.Receive(buffer, at, buffer.Length - at, SocketFlags.None);
            if (n == 0) return false;
            at += n;
        }
        return true;
    }

    private static async ValueTask<bool> FillAsync(Socket socket, byte[] buffer, CancellationToken ct)
    {
        for (var at = 0; at < buffer.Length;)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(at), ct);
            if (n == 0) return false;
            at += n;
        }
        return true;
    }
}
