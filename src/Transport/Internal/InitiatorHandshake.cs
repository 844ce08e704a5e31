using MessagePack;
using PdRdma.Transport.Backends;
using PdRdma.Transport.Internal.Wire;

namespace PdRdma.Transport.Internal;

/// <summary>
/// The initiator's side of connect (protocol version 2): hello, then the initiator proves first (setup), the target
/// proves and names itself (welcome), both derive the session keys from the whole transcript, and from then on every
/// frame is authenticated; then backend choice and setup.
/// </summary>
internal sealed class InitiatorHandshake(AgentCore core, ControlConnection connection)
{
    public sealed record Result(string PeerNodeId, string PeerHostId, ITransferBackend Backend, string Reason, IBackendLink Link, IReadOnlyList<RegionDescriptor> RemoteRegions);

    public async Task<Result> RunAsync(CancellationToken ct)
    {
        var options = core.Options;
        using var transcript = new HandshakeTranscript();
        await SendAsync(transcript, MessageType.Hello, new HelloMessage
        {
            Version = core.ProtocolVersion,
            NodeId = options.NodeId,
            HostId = options.HostId,
            Nonce = ClusterAuth.NewNonce(),
            AuthRequired = options.ClusterSecret is not null,
            DataMac = options.AuthenticateData,
            BatchedDone = true,
        }, ct).ConfigureAwait(false);

        var first = await ExpectAsync(MessageType.Hello, ct).ConfigureAwait(false);
        var version = first.Read<VersionProbe>().Version;
        if (version != core.ProtocolVersion)
        {
            throw new TransferException(TransferErrorCode.VersionMismatch, $"peer speaks protocol version {version}, {options.NodeId} speaks version {core.ProtocolVersion}");
        }
        var hello = first.Read<HelloMessage>();
        if (hello.Nonce.Length != ClusterAuth.NonceBytes) throw new TransferException(TransferErrorCode.Protocol, $"peer at {connection.RemoteEndPoint} sent a nonce of {hello.Nonce.Length} bytes");
        transcript.Add(MessageType.Hello, first.Body.Span);

        byte[]? proof = null;
        if (options.ClusterSecret is { } secret)
        {
            if (!hello.AuthRequired) throw new TransferException(TransferErrorCode.Unauthenticated, $"peer at {connection.RemoteEndPoint} does not require the cluster secret, so it cannot prove it holds it");
            proof = ClusterAuth.InitiatorProof(secret, transcript.Hash());
        }
        else if (hello.AuthRequired)
        {
            throw new TransferException(TransferErrorCode.Unauthenticated, $"peer at {connection.RemoteEndPoint} requires the cluster secret; set TransferAgentOptions.ClusterSecret");
        }

        await SendAsync(transcript, MessageType.Setup, new SetupMessage
        {
            Proof = proof,
            Layout = options.Layout,
            Backends = core.BackendNames,
            Regions = core.DescribeRegions(),
        }, ct).ConfigureAwait(false);

        var welcomeFrame = await ExpectAsync(MessageType.Welcome, ct).ConfigureAwait(false);
        var welcome = welcomeFrame.Read<WelcomeMessage>();
        var peer = welcome.NodeId;
        if (options.ClusterSecret is { } key)
        {
            if (!ClusterAuth.Matches(ClusterAuth.TargetProof(key, transcript.Hash()), welcome.Proof))
            {
                throw new TransferException(TransferErrorCode.Unauthenticated, $"peer '{peer}' at {connection.RemoteEndPoint} did not prove knowledge of the cluster secret");
            }
            transcript.Add(MessageType.Welcome, welcomeFrame.Body.Span);
            var (toTarget, toInitiator) = ClusterAuth.SessionKeys(key, transcript.Hash());
            connection.StartAuthenticated(toTarget, toInitiator, options.AuthenticateData && hello.DataMac && welcome.DataMac);
        }
        if (options.Layout is { } local && welcome.Layout is { } remote) local.EnsureTranslatableTo(remote);
        var regions = welcome.Regions.Where(r => r is not null).ToArray();

        var kinds = core.Regions.Values.Select(r => r.Kind).Concat(regions.Select(r => r.Kind));
        var (backend, reason) = BackendSelector.Choose(options, core.Backends, welcome.Backends, peer, welcome.HostId, kinds, core.Logger);
        await connection.SendAsync(MessageType.SelectBackend, new SelectBackendMessage { Backend = backend.Name, Reason = reason }, ct).ConfigureAwait(false);
        var link = await backend.ConnectAsync(new BackendConnectContext
        {
            LocalNodeId = options.NodeId,
            PeerNodeId = peer,
            SameHost = welcome.HostId == options.HostId,
            LocalRegions = core.Regions,
            RemoteRegions = regions.GroupBy(r => r.RegionId).ToDictionary(g => g.Key, g => g.First()),
            Control = new ControlLink(connection),
            Logger = core.Logger,
        }, ct).ConfigureAwait(false);
        return new Result(peer, welcome.HostId, backend, reason, link, regions);
    }

    private async ValueTask SendAsync<T>(HandshakeTranscript transcript, MessageType type, T message, CancellationToken ct)
    {
        var body = MessagePackSerializer.Serialize(message, WireFormat.Options);
        transcript.Add(type, body);
        await connection.SendRawAsync(type, body, ct).ConfigureAwait(false);
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
