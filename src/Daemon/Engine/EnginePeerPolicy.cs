namespace PdRdma.Daemon.Engine;

/// <summary>
/// Which local users may use the engine API, checked on every connection from its kernel credentials (SO_PEERCRED),
/// on top of the socket's mode: root, the daemon's own user, and members of Daemon:SocketGroup (none when it is empty).
/// </summary>
public sealed class EnginePeerPolicy
{
    private readonly string? _group;
    private readonly int _ownUid;

    public EnginePeerPolicy(string? group, int ownUid)
    {
        _group = string.IsNullOrEmpty(group) ? null : group;
        _ownUid = ownUid;
    }

    /// <summary>Null when the peer may use the daemon, else why not (with the fix).</summary>
    public string? Refusal(PeerCredentials peer)
    {
        if (peer.Uid == 0 || peer.Uid == _ownUid) return null;
        if (_group is not null && UnixGroups.IsMember(_group, peer.Uid, peer.Gid)) return null;
        return _group is null
            ? $"uid {peer.Uid} may not use this daemon: without Daemon:SocketGroup only its own user (uid {_ownUid}) and root may"
            : $"uid {peer.Uid} is not in group '{_group}': add the engine's user to it (usermod -aG {_group} USER)";
    }
}
