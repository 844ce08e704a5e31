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

    [Fact]
    public void TheVectorisedPathsAgreeWithTheScalarOnesElementByElement()
    {
        var random = new Random(3);
        var floats = new float[1000 + 13];
        for (int i = 0; i < floats.Length; i++) floats[i] = (float)(random.NextDouble() * 2000 - 1000) * MathF.Pow(2, random.Next(-20, 20));
        floats[100] = float.NaN;
        floats[101] = float.PositiveInfinity;
        floats[102] = -0f;
        floats[103] = BitConverter.Int32BitsToSingle(0x7F800001); // a signalling NaN must stay NaN
        var source = new byte[floats.Length * 4];
        Buffer.BlockCopy(floats, 0, source, 0, source.Length);
        foreach (var to in new[] { KvDType.BFloat16, KvDType.Float16 })
        {
            var narrow = new byte[floats.Length * 2];
            KvDTypeConverter.Convert(source, KvDType.Float32, narrow, to, floats.Length);
            for (int i = 0; i < floats.Length; i++)
            {
                ushort expected = to == KvDType.BFloat16 ? KvDTypeConverter.SingleToBFloat16(floats[i]) : BitConverter.HalfToUInt16Bits((Half)floats[i]);
                ushort actual = BitConverter.ToUInt16(narrow, i * 2);
                if (float.IsNaN(floats[i])) Assert.True(to == KvDType.BFloat16 ? float.IsNaN(KvDTypeConverter.BFloat16ToSingle(actual)) : Half.IsNaN(BitConverter.UInt16BitsToHalf(actual)), $"element {i}");
                else Assert.True(expected == actual, $"{to} element {i} ({floats[i]}): expected {expected:X4}, got {actual:X4}");
            }
            var wide = new byte[floats.Length * 4];
            KvDTypeConverter.Convert(narrow, to, wide, KvDType.Float32, floats.Length);
            var other = to == KvDType.BFloat16 ? KvDType.Float16 : KvDType.BFloat16;
            var crossed = new byte[floats.Length * 2];
            KvDTypeConverter.Convert(narrow, to, crossed, other, floats.Length);
            for (int i = 0; i < floats.Length; i++)
            {
                float w = BitConverter.ToSingle(wide, i * 4);
                float back = to == KvDType.BFloat16 ? KvDTypeConverter.BFloat16ToSingle(BitConverter.ToUInt16(narrow, i * 2)) : (float)BitConverter.ToHalf(narrow, i * 2);
                Assert.True(w.Equals(back), $"widening element {i}");
                ushort viaFloat = other == KvDType.BFloat16 ? KvDTypeConverter.SingleToBFloat16(w) : BitConverter.HalfToUInt16Bits((Half)w);
                if (!float.IsNaN(w)) Assert.Equal(viaFloat, BitConverter.ToUInt16(crossed, i * 2));
            }
        }
    }
}
