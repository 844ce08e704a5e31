namespace PdRdma.Interop.Verbs.Native;

/// <summary>Marks a struct that mirrors an anonymous C struct or union; it is checked through its parent's fields.</summary>
[AttributeUsage(AttributeTargets.Struct)]
public sealed class CAnonymousAttribute : Attribute;
