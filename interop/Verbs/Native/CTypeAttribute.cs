namespace PdRdma.Interop.Verbs.Native;

/// <summary>
/// Names the C type a binding struct mirrors (e.g. "struct ibv_sge"); the struct-layout test checks the
/// size and every field offset of each struct carrying it against the installed headers.
/// Structs that mirror anonymous C structs/unions (nested only) carry <see cref="CAnonymousAttribute"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Struct)]
public sealed class CTypeAttribute(string cName) : Attribute
{
    public string CName { get; } = cName;
}
