using System.Runtime.InteropServices;
using PdRdma.Interop.Verbs.Handles;
using PdRdma.Interop.Verbs.Native;

namespace PdRdma.Interop.Verbs;

public static unsafe partial class Ibv
{
    [LibraryImport(Library, SetLastError = true)]
    private static partial nint* ibv_get_device_list(out int num_devices);

    [LibraryImport(Library)]
    private static partial void ibv_free_device_list(nint* list);

    [LibraryImport(Library)]
    private static partial byte* ibv_get_device_name(nint device);

    [LibraryImport(Library, SetLastError = true)]
    private static partial nint ibv_open_device(nint device);

    [LibraryImport(Library)]
    internal static partial int ibv_close_device(nint context);

    [LibraryImport(Library)]
    private static partial int ibv_query_device(IbvContextHandle context, ibv_device_attr* device_attr);

    // verbs.h wraps this in an inline that prefers the extended op; the exported symbol fills the
    // leading (compat) part of a zeroed ibv_port_attr, which holds every field we read.
    [LibraryImport(Library)]
    private static partial int ibv_query_port(IbvContextHandle context, byte port_num, ibv_port_attr* port_attr);

    [LibraryImport(Library)]
    private static partial int ibv_query_gid(IbvContextHandle context, byte port_num, int index, ibv_gid* gid);

    [LibraryImport(Library)]
    private static partial int _ibv_query_gid_ex(IbvContextHandle context, uint port_num, uint gid_index,
        ibv_gid_entry* entry, uint flags, nuint entry_size);

    /// <summary>Names of the RDMA devices present (e.g. "rxe0", "mlx5_0"); empty when there are none.</summary>
    /// <exception cref="DllNotFoundException">libibverbs.so.1 is not installed.</exception>
    public static IReadOnlyList<string> GetDeviceNames()
    {
        nint* list = ibv_get_device_list(out int count);
        if (list == null) return [];
        try
        {
            var names = new string[count];
            for (int i = 0; i < count; i++) names[i] = Marshal.PtrToStringUTF8((nint)ibv_get_device_name(list[i])) ?? "";
            return names;
        }
        finally
        {
            ibv_free_device_list(list);
        }
    }

    /// <summary>Opens the device called <paramref name="name"/>; the handle is invalid if it is absent or fails to open.</summary>
    public static IbvContextHandle OpenDevice(string name)
    {
        var context = new IbvContextHandle();
        nint* list = ibv_get_device_list(out int count);
        if (list == null) return context;
        try
        {
            for (int i = 0; i < count; i++)
            {
                if (Marshal.PtrToStringUTF8((nint)ibv_get_device_name(list[i])) == name)
                {
                    context.Adopt(ibv_open_device(list[i]));
                    break;
                }
            }
        }
        finally
        {
            ibv_free_device_list(list);
        }
        return context;
    }

    public static int QueryDevice(IbvContextHandle context, out ibv_device_attr attr)
    {
        attr = default;
        fixed (ibv_device_attr* p = &attr) return ibv_query_device(context, p);
    }

    public static int QueryPort(IbvContextHandle context, byte port, out ibv_port_attr attr)
    {
        attr = default;
        fixed (ibv_port_attr* p = &attr) return ibv_query_port(context, port, p);
    }

    public static int QueryGid(IbvContextHandle context, byte port, int index, out ibv_gid gid)
    {
        gid = default;
        fixed (ibv_gid* p = &gid) return ibv_query_gid(context, port, index, p);
    }

    /// <summary>Reads one GID table entry with its type (RoCE v1/v2); ENODATA for an empty slot.</summary>
    public static int QueryGidEntry(IbvContextHandle context, uint port, uint index, out ibv_gid_entry entry)
    {
        entry = default;
        fixed (ibv_gid_entry* p = &entry) return _ibv_query_gid_ex(context, port, index, p, 0, (nuint)sizeof(ibv_gid_entry));
    }

    /// <summary>The file descriptor async events arrive on (for poll(2)).</summary>
    public static int AsyncEventFd(IbvContextHandle context) => ((ibv_context*)context.DangerousGetHandle())->async_fd;
}
