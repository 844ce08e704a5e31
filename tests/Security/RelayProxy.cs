using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace PdRdma.Tests.Security;

/// <summary>
/// A man in the middle without the secret: a real TCP relay between an initiator and a target that forwards the
/// target's bytes untouched and hands each of the initiator's first frames to <see cref="Mutate"/>, which returns the
/// frames to send in its place (none, altered, duplicated, or extra ones before it). After those frames it forwards
/// raw bytes (data payloads are not framed).
/// </summary>
public sealed class RelayProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _pumps = [];
    private readonly List<TcpClient> _clients = [];
    private readonly Task _accept;

    public RelayProxy(IPEndPoint target, int framesToInspect, Func<int, byte[], IEnumerable<byte[]>> mutate)
    {
        _target = target;
        FramesToInspect = framesToInspect;
        Mutate = mutate;
        _listener.Start();
        _accept = Task.Run(AcceptAsync);
    }

    public IPEndPoint Endpoint => (IPEndPoint)_listener.LocalEndpoint;

    public int FramesToInspect { get; }

    public Func<int, byte[], IEnumerable<byte[]>> Mutate { get; }

    /// <summary>Flip the first byte after the inspected frames (the first data payload byte, when the last inspected frame is its header).</summary>
    public bool FlipFirstRawByte { get; init; }

    /// <summary>Every whole frame (length prefix included) the initiator sent, in order, per connection.</summary>
    public List<List<byte[]>> Seen { get; } = [];

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException) { return; }
            var upstream = new TcpClient();
            await upstream.ConnectAsync(_target);
            lock (_clients) { _clients.Add(client); _clients.Add(upstream); }
            var seen = new List<byte[]>();
            lock (Seen) Seen.Add(seen);
            lock (_pumps)
            {
                _pumps.Add(Task.Run(() => CopyAsync(upstream.GetStream(), client.GetStream())));
                _pumps.Add(Task.Run(() => InspectAsync(client.GetStream(), upstream.GetStream(), seen)));
            }
        }
    }

    private async Task InspectAsync(NetworkStream from, NetworkStream to, List<byte[]> seen)
    {
        try
        {
            for (var index = 0; index < FramesToInspect; index++)
            {
                var prefix = new byte[4];
                await from.ReadExactlyAsync(prefix, _stop.Token);
                var frame = new byte[4 + BinaryPrimitives.ReadUInt32LittleEndian(prefix)];
                prefix.CopyTo(frame, 0);
                await from.ReadExactlyAsync(frame.AsMemory(4), _stop.Token);
                seen.Add(frame);
                foreach (var output in Mutate(index, frame)) await to.WriteAsync(output, _stop.Token);
            }
            if (FlipFirstRawByte)
            {
                var first = new byte[1];
                await from.ReadExactlyAsync(first, _stop.Token);
                first[0] ^= 0x80;
                await to.WriteAsync(first, _stop.Token);
            }
            await from.CopyToAsync(to, _stop.Token);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or EndOfStreamException)
        {
        }
        finally
        {
            try { to.Socket.Shutdown(SocketShutdown.Send); } catch (Exception ex) when (ex is SocketException or ObjectDisposedException) { }
        }
    }

    private async Task CopyAsync(NetworkStream from, NetworkStream to)
    {
        try { await from.CopyToAsync(to, _stop.Token); }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException) { }
        finally
        {
            try { to.Socket.Shutdown(SocketShutdown.Send); } catch (Exception ex) when (ex is SocketException or ObjectDisposedException) { }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _accept;
        lock (_clients) foreach (var client in _clients) client.Dispose();
        Task[] pumps;
        lock (_pumps) pumps = [.. _pumps];
        await Task.WhenAll(pumps);
        _stop.Dispose();
    }
}
