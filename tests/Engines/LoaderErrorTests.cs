using PdRdma.Engines.Loading;

namespace PdRdma.Tests.Engines;

public sealed class LoaderErrorTests : IDisposable
{
    private readonly string _dir = TestModels.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string CopyTruncated(int bytes, bool withTokenizer = true)
    {
        var path = Path.Combine(_dir, "model.bin");
        File.WriteAllBytes(path, File.ReadAllBytes(TestModels.Stories260K)[..bytes]);
        if (withTokenizer) File.Copy(TestModels.Tok512, Path.Combine(_dir, "tok512.bin"), overwrite: true);
        return path;
    }

    [Fact]
    public void MissingCheckpointNamesTheFile()
    {
        var path = Path.Combine(_dir, "nope.bin");
        var e = Assert.Throws<ModelLoadException>(() => ModelSource.Load(path));
        Assert.Equal(path, e.File);
        Assert.Contains("nope.bin", e.Message);
    }

    [Fact]
    public void TruncatedTensorDataNamesTheTensor()
    {
        var path = CopyTruncated(500_000);   // w1 spans [379,420, 599,580)
        var e = Assert.Throws<ModelLoadException>(() => ModelSource.Load(path));
        Assert.Equal(path, e.File);
        Assert.Equal("w1", e.Field);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void TruncatedHeaderNamesTheHeaderField()
    {
        var e = Assert.Throws<ModelLoadException>(() => ModelSource.Load(CopyTruncated(20)));
        Assert.Equal("header.vocab_size", e.Field);
    }

    [Fact]
    public void MissingLastBytesAreCaught()
    {
        var e = Assert.Throws<ModelLoadException>(() => ModelSource.Load(CopyTruncated(1_056_540 - 4)));
        Assert.Equal("freq_cis_imag", e.Field);
    }

    [Fact]
    public void VersionOneExportIsRefusedByName()
    {
        var path = CopyTruncated(1000);
        using (var s = File.OpenWrite(path)) s.Write(BitConverter.GetBytes(0x616b3432));
        Assert.Equal("header.magic", Assert.Throws<ModelLoadException>(() => ModelSource.Load(path)).Field);
    }

    [Fact]
    public void MissingTokenizerNamesWhereItLooked()
    {
        var path = CopyTruncated(1_056_540, withTokenizer: false);
        var e = Assert.Throws<ModelLoadException>(() => ModelSource.Load(path));
        Assert.EndsWith("tok512.bin", e.File);
    }

    [Fact]
    public void TruncatedTokenizerNamesTheToken()
    {
        var path = CopyTruncated(1_056_540, withTokenizer: false);
        File.WriteAllBytes(Path.Combine(_dir, "tok512.bin"), File.ReadAllBytes(TestModels.Tok512)[..3000]);
        var e = Assert.Throws<ModelLoadException>(() => ModelSource.Load(path));
        Assert.EndsWith("tok512.bin", e.File);
        Assert.Contains("of token", e.Field);
    }

    [Fact]
    public void BadTinyRandomSpecNamesTheKey()
    {
        Assert.Equal("layers", Assert.Throws<ModelLoadException>(() => ModelSource.Load("tiny-random:layers=0")).Field);
        Assert.Equal("colour", Assert.Throws<ModelLoadException>(() => ModelSource.Load("tiny-random:colour=red")).Field);
    }
}
