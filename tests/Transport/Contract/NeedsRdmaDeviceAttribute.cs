using PdRdma.Tests.Verbs;

namespace PdRdma.Tests.Transport.Contract;

/// <summary>The contract class needs an RDMA device on this host (a NIC, or Soft-RoCE as in the VMs); skipped with the reason otherwise.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class NeedsRdmaDeviceAttribute : ContractPrerequisiteAttribute
{
    private static readonly Lazy<string?> Reason = new(() => new NativeRdmaFactAttribute().Skip);

    public override string? Missing => Reason.Value;
}
