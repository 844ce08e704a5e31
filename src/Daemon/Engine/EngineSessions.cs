using System.Collections.Concurrent;
using PdRdma.Daemon.Protocol;

namespace PdRdma.Daemon.Engine;

/// <summary>The engine sessions open now, by id; events are pushed to a lease's owner through here. Thread-safe.</summary>
public sealed class EngineSessions
{
    private readonly ConcurrentDictionary<long, EngineSession> _sessions = new();

    public int Count => _sessions.Count;

    public IEnumerable<EngineSession> All => _sessions.Values;

    public void Add(EngineSession session) => _sessions[session.Id] = session;

    public void Remove(EngineSession session) => _sessions.TryRemove(KeyValuePair.Create(session.Id, session));

    /// <summary>Queues an event for a subscribed session without waiting (a session that stopped reading is closed instead); false when not delivered.</summary>
    public bool TryPush(long sessionId, IEngineMessage message) =>
        _sessions.TryGetValue(sessionId, out var session) && session.Subscribed && session.TryPush(message);
}
