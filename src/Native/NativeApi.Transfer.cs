using System.Runtime.InteropServices;
using PdRdma.Transport;

namespace PdRdma.Native;

internal static unsafe partial class NativeApi
{
    /// <summary>Largest batch one call may post; larger ones are refused before anything is sent.</summary>
    private const ulong MaxWritesPerBatch = 1 << 20;

    private const ulong MaxNotificationBytes = 1 << 20;

    private const uint ChecksumFlag = 1;

    [UnmanagedCallersOnly(EntryPoint = "pdrdma_connect")]
    public static int Connect(nint agent, byte* peer, nint* connection)
    {
        LastError.Clear();
        try
        {
            Out(connection, "conn");
            *connection = 0;
            var owner = Agents.Get(agent);
            var endpoint = AgentConfig.Endpoint(Str(peer, "peer"), "peer");
            var connected = owner.Agent.ConnectAsync(endpoint, CancellationToken.None).GetAwaiter().GetResult();
            *connection = Connections.Add(new NativeConnection(owner, connected));
            return PdrdmaStatus.Ok;
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "pdrdma_conn_backend")]
    public static int ConnectionBackend(nint connection, byte* buffer, nuint capacity, nuint* length)
    {
        LastError.Clear();
        try
        {
            return WriteString(Connections.Get(connection).Connection.Backend, buffer, capacity, length);
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "pdrdma_conn_close")]
    public static int ConnectionClose(nint connection)
    {
        LastError.Clear();
        try
        {
            var c = Connections.Remove(connection);
            foreach (var batch in Batches.RemoveAll(b => b.Owner == c))
            {
                batch.Cancel.Cancel();
                batch.Dispose();
            }
            c.Connection.DisposeAsync().AsTask().GetAwaiter().GetResult();
            return PdrdmaStatus.Ok;
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "pdrdma_post")]
    public static int Post(nint connection, PdrdmaWrite* writes, nuint count, byte* notification, nuint notificationLength, uint flags, nint* batch)
    {
        LastError.Clear();
        try
        {
            Out(batch, "batch");
            *batch = 0;
            var c = Connections.Get(connection);
            var (write, cancel) = Start(c, writes, count, notification, notificationLength, flags);
            if (write.IsFaulted)
            {
                cancel.Dispose();
                return Report(write.Exception!);
            }
            *batch = Batches.Add(new NativeBatch(c, write, cancel));
            return PdrdmaStatus.Ok;
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    /// <summary>Post, wait and free in one call: the path for small synchronous batches.</summary>
    [UnmanagedCallersOnly(EntryPoint = "pdrdma_write")]
    public static int Write(nint connection, PdrdmaWrite* writes, nuint count, byte* notification, nuint notificationLength, uint flags, int timeoutMs)
    {
        LastError.Clear();
        CancellationTokenSource? cancel = null;
        try
        {
            var c = Connections.Get(connection);
            (var write, cancel) = Start(c, writes, count, notification, notificationLength, flags);
            return Finish(write, cancel, Timeout(timeoutMs), abandonOnTimeout: true);
        }
        catch (Exception e)
        {
            return Report(e);
        }
        finally
        {
            cancel?.Dispose();
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "pdrdma_batch_poll")]
    public static int BatchPoll(nint batch)
    {
        LastError.Clear();
        try
        {
            var b = Batches.Get(batch);
            return b.Write.IsCompleted ? Finish(b.Write, b.Cancel, TimeSpan.Zero, abandonOnTimeout: false) : PdrdmaStatus.Pending;
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "pdrdma_batch_wait")]
    public static int BatchWait(nint batch, int timeoutMs)
    {
        LastError.Clear();
        try
        {
            var b = Batches.Get(batch);
            return Finish(b.Write, b.Cancel, Timeout(timeoutMs), abandonOnTimeout: false);
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "pdrdma_batch_free")]
    public static int BatchFree(nint batch)
    {
        LastError.Clear();
        try
        {
            var b = Batches.Remove(batch);
            if (!b.Write.IsCompleted)
            {
                // Freed in flight: abandon it (its target bytes are undefined, nothing is notified) and let it unwind.
                b.Cancel.Cancel();
                try { b.Write.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
            }
            b.Dispose();
            return PdrdmaStatus.Ok;
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    private static (Task Write, CancellationTokenSource Cancel) Start(NativeConnection c, PdrdmaWrite* writes, nuint count, byte* notification, nuint notificationLength, uint flags)
    {
        if (count > MaxWritesPerBatch) throw new NativeArgumentException($"count {count} is above {MaxWritesPerBatch} writes per batch");
        if (count > 0 && writes == null) throw new NativeArgumentException("writes is NULL");
        if (notificationLength > MaxNotificationBytes) throw new NativeArgumentException($"notification of {notificationLength} bytes is above {MaxNotificationBytes}");
        if (notificationLength > 0 && notification == null) throw new NativeArgumentException("notification is NULL");
        if ((flags & ~ChecksumFlag) != 0) throw new NativeArgumentException($"flags 0x{flags:x} holds unknown bits");
        var ops = new WriteOp[(int)count];
        // Region names repeat across a batch: decode each distinct pointer once.
        var names = new Dictionary<nint, string>();
        for (var i = 0; i < ops.Length; i++)
        {
            var w = writes[i];
            ops[i] = new WriteOp(Name(names, w.source_region, i, "source_region"), Checked(w.source_offset, "source_offset"),
                Name(names, w.target_region, i, "target_region"), Checked(w.target_offset, "target_offset"), Checked(w.length, "length"));
        }
        var note = notification == null ? null : new ReadOnlySpan<byte>(notification, (int)notificationLength).ToArray();
        var batch = new WriteBatch(ops, note, (flags & ChecksumFlag) != 0 ? ChecksumKind.XxHash3 : ChecksumKind.None);
        var cancel = new CancellationTokenSource();
        return (c.Connection.WriteAsync(batch, cancel.Token), cancel);
    }

    private static string Name(Dictionary<nint, string> names, byte* p, int index, string what)
    {
        if (names.TryGetValue((nint)p, out var known)) return known;
        var name = Str(p, $"writes[{index}].{what}");
        names[(nint)p] = name;
        return name;
    }

    /// <summary>Blocks the C thread until the write ends or the timeout passes; maps the outcome to a status.</summary>
    private static int Finish(Task write, CancellationTokenSource cancel, TimeSpan timeout, bool abandonOnTimeout)
    {
        try
        {
            if (!write.Wait(timeout))
            {
                if (!abandonOnTimeout) throw new TransferException(TransferErrorCode.Timeout, $"the batch did not complete within {timeout.TotalMilliseconds:0} ms (still in flight)");
                cancel.Cancel();
                try { write.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
                throw new TransferException(TransferErrorCode.Timeout, $"the batch did not complete within {timeout.TotalMilliseconds:0} ms and was abandoned");
            }
            return PdrdmaStatus.Ok;
        }
        catch (AggregateException e) when (e.InnerException is OperationCanceledException)
        {
            throw new TransferException(TransferErrorCode.Timeout, "the batch was abandoned");
        }
    }
}
