using System.Net;
using System.Net.Sockets;

namespace PdRdma.Tests.Security;

/// <summary>
/// A TCP relay on loopback between a peer and a daemon that, once armed, damages the peer→daemon stream once: drops a
/// range of bytes (a hole), drops everything after a point (a cut), or flips one byte. The other direction is relayed
/// as is.
/// </summary>
internal sealed class DroppingRelay : IAsyncDisposable
{
    public enum Fault { Hole, Cut, Flip }

    private readonly Socket _listener;
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _sockets = [];
    private readonly Task _accept;
    private Fault _fault;
    private long _armedAt = -1;
    private long _after;
    private long _length;
    private long _forwarded;

    private DroppingRelay(IPEndPoint target)
    {
        _target = target;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(8);
        Endpoint = (IPEndPoint)_listener.LocalEndPoint!;
        _accept = Task.Run(AcceptAsync);
    }

    public IPEndPoint Endpoint { get; }

    /// <summary>The fault was applied to bytes that passed.</summary>
    public bool Faulted { get; private set; }

    public static DroppingRelay Start(IPEndPoint target) => new(target);

    /// <summary>From now on, after <paramref name="after"/> more bytes, damage the stream.</summary>
    public void Arm(Fault fault, long after, long length)
    {
        _fault = fault;
        _after = after;
        _length = length;
        Interlocked.Exchange(ref _armedAt, Interlocked.Read(ref _forwarded));
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var inbound = await _listener.AcceptAsync(_stop.Token);
                var outbound = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await outbound.ConnectAsync(_target, _stop.Token);
                lock (_sockets) _sockets.AddRange([inbound, outbound]);
                _ = Task.Run(() => PumpAsync(inbound, outbound, damage: true));
                _ = Task.Run(() => PumpAsync(outbound, inbound, damage: false));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task PumpAsync(Socket from, Socket to, bool damage)
    {
        var buffer = new byte[16384];
        try
        {
            while (true)
            {
                var n = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (n == 0) break;
                var chunk = damage ? Damage(buffer.AsSpan(0, n).ToArray()) : buffer.AsMemory(0, n).ToArray();
                if (chunk.Length > 0) await to.SendAsync(chunk, SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        try { to.Shutdown(SocketShutdown.Send); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }

    /// <summary>The bytes of this chunk that pass, given where the chunk sits in the stream.</summary>
    private byte[] Damage(byte[] chunk)
    {
        var start = _forwarded;
        _forwarded += chunk.Length;
        var armed = Interlocked.Read(ref _armedAt);
        if (armed < 0) return chunk;
        long from = armed + _after, to = _fault switch { Fault.Hole => from + _length, Fault.Cut => long.MaxValue, _ => from + 1 };
        var kept = new List<byte>(chunk.Length);
        for (var i = 0; i < chunk.Length; i++)
        {
            var at = start + i;
            if (at < from || at >= to) { kept.Add(chunk[i]); continue; }
            Faulted = true;
            if (_fault == Fault.Flip) kept.Add((byte)(chunk[i] ^ 0xFF));
        }
        return kept.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        lock (_sockets) foreach (var s in _sockets) s.Dispose();
        await _accept.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }
}
