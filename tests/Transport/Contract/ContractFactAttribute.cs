using Xunit.Sdk;

namespace PdRdma.Tests.Transport.Contract;

/// <summary>A contract check: a fact, skipped with the reason where the deriving class's <see cref="ContractPrerequisiteAttribute"/> says so.</summary>
[XunitTestCaseDiscoverer("PdRdma.Tests.Transport.Contract.ContractTestCaseDiscoverer", "PdRdma.Tests")]
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class ContractFactAttribute : FactAttribute;
