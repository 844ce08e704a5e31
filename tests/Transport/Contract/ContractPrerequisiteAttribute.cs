namespace PdRdma.Tests.Transport.Contract;

/// <summary>
/// Put on a class deriving from <see cref="BackendContractTests"/> whose backend needs something this host may lack (an
/// RDMA device): every contract check of that class is then reported skipped with <see cref="Missing"/>, and single
/// checks that cannot hold for the backend are skipped with their stated reason (<see cref="SkipReasonFor"/>).
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public abstract class ContractPrerequisiteAttribute : Attribute
{
    /// <summary>Why the backend cannot run on this host, or null when it can.</summary>
    public abstract string? Missing { get; }

    /// <summary>Why this one check cannot hold for the backend, or null when it must pass.</summary>
    public virtual string? SkipReasonFor(string testMethodName) => null;
}
