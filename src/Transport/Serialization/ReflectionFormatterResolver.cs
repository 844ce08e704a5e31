using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using MessagePack;
using MessagePack.Formatters;
using MessagePack.Resolvers;

namespace PdRdma.Transport.Serialization;

/// <summary>
/// MessagePack formatters for the wire types (<c>[MessagePackObject]</c> with integer keys, <c>[Union]</c> interfaces,
/// enums, arrays, string-keyed maps) built by reflection, without generating code at run time. MessagePack 2.5's dynamic
/// resolvers emit IL, which NativeAOT (libpdrdma.so) cannot run, and MessagePack 3's source generator is not in the
/// package feed this project builds from; so under NativeAOT this resolver takes their place. It produces the same bytes
/// (checked by a test against MessagePack's own resolver) and reads untrusted input under the options' security limits.
/// Thread-safe; shapes are built once per type.
/// </summary>
public sealed class ReflectionFormatterResolver : IFormatterResolver
{
    /// <summary>The one instance.</summary>
    public static readonly ReflectionFormatterResolver Instance = new();

    private ReflectionFormatterResolver()
    {
    }

    /// <summary>
    /// The resolver the product serializes with: MessagePack's dynamic resolver where the runtime can generate code
    /// (allowing private members when <paramref name="allowPrivate"/>), this one where it cannot (NativeAOT).
    /// </summary>
    public static IFormatterResolver ForRuntime(bool allowPrivate) =>
        RuntimeFeature.IsDynamicCodeSupported
            ? allowPrivate ? StandardResolverAllowPrivate.Instance : StandardResolver.Instance
            : Instance;

    /// <inheritdoc />
    public IMessagePackFormatter<T>? GetFormatter<T>() => Cache<T>.Formatter;

    private static class Cache<T>
    {
        public static readonly IMessagePackFormatter<T>? Formatter = Create();

        [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "libpdrdma keeps the wire types whole (src/Native/ILLink.Descriptors.xml)")]
        private static IMessagePackFormatter<T>? Create()
        {
            if (BuiltinResolver.Instance.GetFormatter<T>() is { } builtin) return builtin;
            return ReflectionShapes.IsSupported(typeof(T)) ? new ReflectionFormatter<T>() : null;
        }
    }
}
