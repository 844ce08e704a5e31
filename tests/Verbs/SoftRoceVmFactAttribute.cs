namespace PdRdma.Tests.Verbs;

/// <summary>A fact that needs the Soft-RoCE VMs (qemu-system-x86, Debian's kernel with rdma_rxe); skipped with the reason otherwise.</summary>
public sealed class SoftRoceVmFactAttribute : FactAttribute
{
    public SoftRoceVmFactAttribute()
    {
        if (SoftRoceVms.Missing is { } reason) Skip = reason;
    }
}
