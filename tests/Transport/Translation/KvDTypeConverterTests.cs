using PdRdma.Transport;
using PdRdma.Transport.Translation;

namespace PdRdma.Tests.Transport.Translation;

[Trait("Category", "KvLayout")]
public sealed class KvDTypeConverterTests
{
    [Theory]
    [InlineData(1.0f, (ushort)0x3F80)]
    [InlineData(1.00390625f, (ushort)0x3F80)]   // halfway between 0x3F80 and 0x3F81: ties to even
    [InlineData(1.01171875f, (ushort)0x3F82)]   // halfway between 0x3F81 and 0x3F82: ties to even (up)
    [InlineData(-2.5f, (ushort)0xC020)]
    [InlineData(float.PositiveInfinity, (ushort)0x7F80)]
    public void SingleToBFloat16RoundsToNearestEven(float value, ushort bits) => Assert.Equal(bits, KvDTypeConverter.SingleToBFloat16(value));

    [Fact]
    public void NaNStaysNaN() => Assert.True(float.IsNaN(KvDTypeConverter.BFloat16ToSingle(KvDTypeConverter.SingleToBFloat16(float.NaN))));

    [Fact]
    public void EveryBFloat16AndHalfSurvivesTheTripThroughFloat32()
    {
        var one = new byte[2];
        var wide = new byte[4];
        var back = new byte[2];
        foreach (var dType in new[] { KvDType.BFloat16, KvDType.Float16 })
        {
            for (int bits = 0; bits < 65536; bits++)
            {
                one[0] = (byte)bits;
                one[1] = (byte)(bits >> 8);
                KvDTypeConverter.Convert(one, dType, wide, KvDType.Float32, 1);
                if (float.IsNaN(BitConverter.ToSingle(wide))) continue;
                KvDTypeConverter.Convert(wide, KvDType.Float32, back, dType, 1);
                Assert.Equal(one, back);
            }
        }
    }

    [Fact]
    public void SpansTooShortForTheElementsAreRefused()
    {
        Assert.Equal(TransferErrorCode.OutOfBounds,
            Assert.Throws<TransferException>(() => KvDTypeConverter.Convert(new byte[8], KvDType.Float32, new byte[2], KvDType.BFloat16, 2)).Code);
    }
}
