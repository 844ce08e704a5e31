using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using PdRdma.Transport;

namespace PdRdma.Native;

internal static unsafe partial class NativeApi
{
    [UnmanagedCallersOnly(EntryPoint = "pdrdma_region_register")]
    public static int RegionRegister(nint agent, byte* id, void* address, ulong length, int kind, int deviceOrdinal, nint* region)
    {
        LastError.Clear();
        try
        {
            Out(region, "region");
            *region = 0;
            var owner = Agents.Get(agent);
            var name = Str(id, "id");
            if (address == null) throw new NativeArgumentException("addr is NULL");
            if (length == 0) throw new NativeArgumentException("length is 0");
            var size = Checked(length, "length");
            if ((ulong)address > ulong.MaxValue - length) throw new NativeArgumentException("addr + length wraps around");
            var memoryKind = kind switch
            {
                (int)MemoryKind.Host => MemoryKind.Host,
                (int)MemoryKind.CudaDevice or (int)MemoryKind.LevelZeroDevice => throw new TransferException(TransferErrorCode.Unsupported,
                    $"region '{name}': {(MemoryKind)kind} memory (device {deviceOrdinal}) from a caller's pointer is declared in the ABI but no backend of this build moves it yet; register host memory"),
                _ => throw new NativeArgumentException($"kind {kind} is not a pdrdma_memory_kind"),
            };
            var foreign = new ForeignRegion(name, (nint)address, size, memoryKind);
            owner.Agent.RegisterRegion(foreign);
            *region = Regions.Add(new NativeRegion(owner, foreign, OwnedByLibrary: false));
            return PdrdmaStatus.Ok;
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "pdrdma_region_alloc")]
    public static int RegionAlloc(nint agent, byte* id, ulong length, void** address, nint* region)
    {
        LastError.Clear();
        try
        {
            Out(region, "region");
            if (address == null) throw new NativeArgumentException("addr is NULL");
            *region = 0;
            *address = null;
            var owner = Agents.Get(agent);
            var name = Str(id, "id");
            if (length == 0) throw new NativeArgumentException("length is 0");
            var host = HostRegion.Create(name, Checked(length, "length"));
            try
            {
                owner.Agent.RegisterRegion(host);
            }
            catch
            {
                host.Dispose();
                throw;
            }
            owner.Owned[name] = host;
            *address = (void*)host.Address;
            *region = Regions.Add(new NativeRegion(owner, host, OwnedByLibrary: true));
            return PdrdmaStatus.Ok;
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "pdrdma_region_deregister")]
    public static int RegionDeregister(nint region)
    {
        LastError.Clear();
        try
        {
            var r = Regions.Remove(region);
            r.Owner.Agent.DeregisterRegion(r.Region.Id);
            if (r.OwnedByLibrary && r.Owner.Owned.TryRemove(r.Region.Id, out var owned)) owned.Dispose();
            return PdrdmaStatus.Ok;
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    /// <summary>The region's descriptor as JSON: what a peer learns about it at connect (backend keys base64).</summary>
    [UnmanagedCallersOnly(EntryPoint = "pdrdma_region_describe")]
    public static int RegionDescribe(nint region, byte* buffer, nuint capacity, nuint* length)
    {
        LastError.Clear();
        try
        {
            var r = Regions.Get(region);
            var d = r.Owner.Agent.DescribeRegion(r.Region.Id);
            using var stream = new MemoryStream();
            using (var json = new Utf8JsonWriter(stream))
            {
                json.WriteStartObject();
                json.WriteString("node_id", d.NodeId);
                json.WriteString("region_id", d.RegionId);
                json.WriteNumber("length", d.Length);
                json.WriteNumber("kind", (int)d.Kind);
                if (d.SharedPath is null) json.WriteNull("shared_path");
                else json.WriteString("shared_path", d.SharedPath);
                json.WriteStartObject("backend_keys");
                foreach (var (backend, blob) in d.BackendKeys ?? new Dictionary<string, byte[]>()) json.WriteBase64String(backend, blob);
                json.WriteEndObject();
                json.WriteEndObject();
            }
            return WriteString(Encoding.UTF8.GetString(stream.ToArray()), buffer, capacity, length);
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }
}
