using System.Text;
using PdRdma.Engines.Loading;
using PdRdma.Engines.Tokenization;

namespace PdRdma.Tests.Engines;

public sealed class TokenizerTests
{
    private static readonly Llama2cTokenizer Tok = Llama2cTokenizer.Load(TestModels.Tok512, 512);

    [Fact]
    public void EncodesTheReadmeExamples()
    {
        Assert.Equal([1, 403, 407, 261, 378], Tok.Encode("Once upon a time"));
        Assert.Equal([1, 410, 469, 347], Tok.Encode("Zoo"));
        Assert.Equal([1], Tok.Encode(""));
        Assert.Equal([1, 410, 469, 347, 2], Tok.Encode("Zoo", eos: true));
    }

    [Fact]
    public void UnknownCodePointsFallBackToBytes()
    {
        var ids = Tok.Encode("\u4e2d");   // 中 is not a piece: three UTF-8 bytes → b + 3 each
        Assert.Equal(1, ids[0]);
        Assert.Equal([0xE4 + 3, 0xB8 + 3, 0xAD + 3], ids[^3..]);
    }

    [Fact]
    public void DecodeStripsTheSpaceAfterBosAndHonoursSafePrintf()
    {
        Assert.Equal("Once", Encoding.ASCII.GetString(Tok.DecodePiece(1, 403)));
        Assert.Equal(" upon", Encoding.ASCII.GetString(Tok.DecodePiece(403, 407)));
        Assert.Equal("\n", Encoding.ASCII.GetString(Tok.DecodePiece(5, 0x0A + 3)));   // <0x0A> → a newline
        Assert.Empty(Tok.DecodePiece(5, 0x01 + 3));                                   // not printable, not space
        Assert.Empty(Tok.DecodePiece(5, 0xC3 + 3));                                   // a lone high byte is skipped too
        Assert.Equal("\n<s>\n", Encoding.ASCII.GetString(Tok.DecodePiece(5, 1)));
    }

    [Fact]
    public void ByteTokenizerRoundTripsAscii()
    {
        var tok = new ByteTokenizer();
        var ids = tok.Encode("hi!");
        Assert.Equal([1, 'h' + 3, 'i' + 3, '!' + 3], ids);
        Assert.Equal("i", Encoding.ASCII.GetString(tok.DecodePiece(ids[1], ids[2])));
    }
}
