using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using PdRdma.Transport;

namespace PdRdma.Cli.Commands;

/// <summary>What the peer test tools (transfer-send, verbs-peer, verbs-dmabuf-peer, verbs-grant-peer) share.</summary>
internal static class PeerTools
{
    private static readonly System.Text.Json.JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Prints one JSON line (the tests parse it).</summary>
    public static void Emit(JsonObject result) => Console.WriteLine(result.ToJsonString(Relaxed));

    /// <summary>
    /// Retries a refused connect (every 250 ms) until <paramref name="timeout"/> (null: until <paramref name="ct"/>): the
    /// target may be a process still starting, slowly, in an emulated VM; any other failure is reported at once.
    /// </summary>
    public static async Task<PeerConnection> ConnectWhenListeningAsync(TransferAgent agent, EndPoint peer, TimeSpan? timeout, CancellationToken ct)
    {
        var deadline = timeout is { } t ? DateTime.UtcNow + t : DateTime.MaxValue;
        while (true)
        {
            try
            {
                return await agent.ConnectAsync(peer, ct);
            }
            catch (TransferException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused } && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250, ct);
            }
        }
    }
}
