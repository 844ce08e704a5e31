using PdRdma.Transport.Backends;
using PdRdma.Transport.Internal.Wire;

namespace PdRdma.Transport.Internal;

/// <summary>The initiator's side of connect: hello, authentication, layout, descriptors, backend choice and setup.</summary>
internal sealed class InitiatorHandshake(AgentCore core, ControlConnection connection)
{
    public sealed record Result(string PeerNodeId, string PeerHostId, ITransferBackend Backend, string Reason, IBackendLink Link, IReadOnlyList<RegionDescriptor> RemoteRegions);

    public async Task<Result> RunAsync(CancellationToken ct)
    {
        var options = core.Options;
        var nonce = ClusterAuth.NewNonce();
        await connection.SendAsync(MessageType.Hello, new HelloMessage
        {
            Version = core.ProtocolVersion,
            NodeId = options.NodeId,
            HostId = options.HostId,
            Nonce = nonce,
            AuthRequired = options.ClusterSecret is not null,
        }, ct).ConfigureAwait(false);

        var first = await ExpectAsync(MessageType.Hello, ct).ConfigureAwait(false);
        var version = first.Read<VersionProbe>().Version;
        if (version != core.ProtocolVersion)
        {
            throw new TransferException(TransferErrorCode.VersionMismatch, $"peer speaks protocol version {version}, {options.NodeId} speaks version {core.ProtocolVersion}");
        }
        var hello = first.Read<HelloMessage>();
        var peer = hello.NodeId;
        if (hello.Nonce.Length != ClusterAuth.NonceBytes) throw new TransferException(TransferErrorCode.Protocol, $"peer {peer} sent a nonce of {hello.Nonce.Length} bytes");

        byte[]? proof = null;
        if (options.ClusterSecret is { } secret)
        {
            if (!hello.AuthRequired || !ClusterAuth.Matches(ClusterAuth.TargetProof(secret, nonce, hello.Nonce, options.NodeId, peer), hello.Proof))
            {
                throw new TransferException(TransferErrorCode.Unauthenticated, $"peer '{peer}' did not prove knowledge of the cluster secret");
            }
            proof = ClusterAuth.InitiatorProof(secret, nonce, hello.Nonce, options.NodeId, peer);
        }
        else if (hello.AuthRequired)
        {
            throw new TransferException(TransferErrorCode.Unauthenticated, $"peer '{peer}' requires the cluster secret; set TransferAgentOptions.ClusterSecret");
        }

        await connection.SendAsync(MessageType.Setup, new SetupMessage
        {
            Proof = proof,
            Layout = options.Layout,
            Backends = core.BackendNames,
            Regions = core.DescribeRegions(),
        }, ct).ConfigureAwait(false);

        var welcome = (await ExpectAsync(MessageType.Welcome, ct).ConfigureAwait(false)).Read<WelcomeMessage>();
        if (options.Layout is { } local && welcome.Layout is { } remote) local.EnsureTranslatableTo(remote);
        var regions = welcome.Regions.Where(r => r is not null).ToArray();

        var kinds = core.Regions.Values.Select(r => r.Kind).Concat(regions.Select(r => r.Kind));
        var (backend, reason) = BackendSelector.Choose(options, core.Backends, welcome.Backends, peer, hello.HostId, kinds, core.Logger);
        await connection.SendAsync(MessageType.SelectBackend, new SelectBackendMessage { Backend = backend.Name, Reason = reason }, ct).ConfigureAwait(false);
        var link = await backend.ConnectAsync(new BackendConnectContext
        {
            LocalNodeId = options.NodeId,
            PeerNodeId = peer,
            SameHost = hello.HostId == options.HostId,
            LocalRegions = core.Regions,
            RemoteRegions = regions.GroupBy(r => r.RegionId).ToDictionary(g => g.Key, g => g.First()),
            Control = new ControlLink(connection),
            Logger = core.Logger,
        }, ct).ConfigureAwait(false);
        return new Result(peer, hello.HostId, backend, reason, link, regions);
    }

    private async ValueTask<Frame> ExpectAsync(MessageType type, CancellationToken ct)
    {
        var frame = await connection.ReadFrameAsync(ct).ConfigureAwait(false)
            ?? throw new TransferException(TransferErrorCode.PeerLost, $"peer at {connection.RemoteEndPoint} closed the link before its {type}");
        if (frame.Type == MessageType.Error) throw frame.Read<ErrorMessage>().ToException();
        if (frame.Type != type) throw new TransferException(TransferErrorCode.Protocol, $"expected {type}, got {frame.Type}");
        return frame;
    }
}
