using System.Reflection;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace PdRdma.Tests.Transport.Contract;

/// <summary>
/// Finds contract checks like xUnit's own fact and theory discoverers, except that a check of a class whose
/// <see cref="ContractPrerequisiteAttribute"/> names a reason is one skipped test case carrying that reason.
/// </summary>
public sealed class ContractTestCaseDiscoverer(IMessageSink diagnosticMessageSink) : IXunitTestCaseDiscoverer
{
    private readonly FactDiscoverer _facts = new(diagnosticMessageSink);
    private readonly TheoryDiscoverer _theories = new(diagnosticMessageSink);

    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        var prerequisite = testMethod.TestClass.Class.ToRuntimeType()?.GetCustomAttribute<ContractPrerequisiteAttribute>(inherit: false);
        if ((prerequisite?.Missing ?? prerequisite?.SkipReasonFor(testMethod.Method.Name)) is { } reason)
        {
            return [new XunitSkippedDataRowTestCase(diagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod, reason)];
        }

        return factAttribute is IReflectionAttributeInfo { Attribute: TheoryAttribute }
            ? _theories.Discover(discoveryOptions, testMethod, factAttribute)
            : _facts.Discover(discoveryOptions, testMethod, factAttribute);
    }
}
