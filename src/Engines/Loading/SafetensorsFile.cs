using System.Buffers.Binary;
using System.Text.Json;

namespace PdRdma.Engines.Loading;

/// <summary>
/// A .safetensors file: an 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape
/// and data_offsets (relative to the end of the header), then the raw little-endian tensor bytes. Every entry
/// is validated against the file length when opened. Reads the whole file into memory.
/// </summary>
public sealed class SafetensorsFile
{
    private readonly byte[] _data;
    private readonly long _dataStart;
    private readonly Dictionary<string, (string DType, long[] Shape, long Begin, long End)> _entries = new(StringComparer.Ordinal);

    private SafetensorsFile(string path, byte[] data)
    {
        Path = path;
        _data = data;
        if (data.Length < 8) throw new ModelLoadException(path, "header length", $"file is truncated ({data.Length} bytes)");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(data);
        if (headerLength > (ulong)(data.Length - 8)) throw new ModelLoadException(path, "header length", $"{headerLength} bytes of header, but the file has {data.Length - 8} after the length");
        _dataStart = 8 + (long)headerLength;
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(data.AsMemory(8, (int)headerLength));
        }
        catch (JsonException e)
        {
            throw new ModelLoadException(path, "header", $"not valid JSON ({e.Message})", e);
        }
        using (doc)
        {
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Name == "__metadata__") continue;
                try
                {
                    var dtype = p.Value.GetProperty("dtype").GetString()!;
                    var shape = p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                    var offsets = p.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                    if (offsets.Length != 2) throw new ModelLoadException(path, $"{p.Name}.data_offsets", "needs [begin, end]");
                    _entries[p.Name] = (dtype, shape, offsets[0], offsets[1]);
                }
                catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
                {
                    throw new ModelLoadException(path, p.Name, $"malformed header entry ({e.Message})", e);
                }
            }
        }
        foreach (var (name, (dtype, shape, begin, end)) in _entries)
        {
            int size = ElementSize(dtype) ?? throw new ModelLoadException(path, $"{name}.dtype", $"'{dtype}' is not supported (F32, BF16, F16)");
            long count = shape.Aggregate(1L, (a, s) => a * s);
            if (begin < 0 || end < begin || end - begin != count * size)
            {
                throw new ModelLoadException(path, $"{name}.data_offsets", $"[{begin}, {end}) does not hold {count} {dtype} values");
            }
            if (_dataStart + end > data.Length)
            {
                throw new ModelLoadException(path, $"{name}.data_offsets", $"file is truncated: tensor needs bytes up to {_dataStart + end}, file has {data.Length}");
            }
        }
    }

    public string Path { get; }

    public IEnumerable<string> Names => _entries.Keys;

    public static SafetensorsFile Open(string path)
    {
        if (!File.Exists(path)) throw new ModelLoadException(path, "file", "not found");
        return new SafetensorsFile(path, File.ReadAllBytes(path));
    }

    public bool Contains(string name) => _entries.ContainsKey(name);

    public long[] Shape(string name) => Entry(name).Shape;

    public string DType(string name) => Entry(name).DType;

    /// <summary>The tensor as float32 (BF16 and F16 widened exactly), checked against <paramref name="expectedShape"/>.</summary>
    public float[] ReadFloats(string name, params long[] expectedShape)
    {
        var (dtype, shape, begin, end) = Entry(name);
        if (!shape.SequenceEqual(expectedShape))
        {
            throw new ModelLoadException(Path, $"{name}.shape", $"[{string.Join(", ", shape)}], expected [{string.Join(", ", expectedShape)}]");
        }
        var bytes = _data.AsSpan((int)(_dataStart + begin), (int)(end - begin));
        var result = new float[shape.Aggregate(1L, (a, s) => a * s)];
        switch (dtype)
        {
            case "F32":
                for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * 4)..]);
                break;
            case "BF16":
                for (int i = 0; i < result.Length; i++) result[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(i * 2)..]) << 16);
                break;
            case "F16":
                for (int i = 0; i < result.Length; i++) result[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(bytes[(i * 2)..]);
                break;
        }
        return result;
    }

    private (string DType, long[] Shape, long Begin, long End) Entry(string name) =>
        _entries.TryGetValue(name, out var e) ? e : throw new ModelLoadException(Path, name, "tensor missing");

    private static int? ElementSize(string dtype) => dtype switch
    {
        "F32" => 4,
        "BF16" or "F16" => 2,
        _ => null,
    };
}
