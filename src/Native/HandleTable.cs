using System.Collections.Concurrent;

namespace PdRdma.Native;

/// <summary>
/// Objects handed to C as opaque handles: the handle is a table id, never an address, so a stale, freed or forged handle
/// is refused (InvalidArgument) instead of being dereferenced. Ids are never reused within a process and are unique
/// across kinds (a region handle passed as an agent is refused too). Thread-safe.
/// </summary>
internal sealed class HandleTable<T> where T : class
{
    private readonly ConcurrentDictionary<nint, T> _items = new();
    private readonly string _kind;

    public HandleTable(string kind) => _kind = kind;

    public nint Add(T item)
    {
        var id = HandleIds.Next();
        _items[id] = item;
        return id;
    }

    public T Get(nint handle) =>
        _items.TryGetValue(handle, out var item) ? item : throw new NativeArgumentException($"{_kind} handle 0x{handle:x} is not open (closed already, or not a {_kind})");

    public T Remove(nint handle) =>
        _items.TryRemove(handle, out var item) ? item : throw new NativeArgumentException($"{_kind} handle 0x{handle:x} is not open (closed already, or not a {_kind})");

    public IReadOnlyList<T> RemoveAll(Func<T, bool> match)
    {
        var removed = new List<T>();
        foreach (var (id, item) in _items)
        {
            if (match(item) && _items.TryRemove(id, out _)) removed.Add(item);
        }
        return removed;
    }
}
