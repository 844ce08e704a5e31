using PdRdma.Perf.Baselines;

namespace PdRdma.Tests.Perf;

public sealed class Iperf3JsonParserTests
{
    private static string Sample => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Perf", "iperf3-sample.json"));

    [Fact]
    public void ReadsTheReceiversRateFromARealClientRun()
    {
        var result = Iperf3JsonParser.Parse(Sample);
        // the sample is `iperf3 -c 127.0.0.1 -J -t 1 -l 65536` on this machine
        Assert.Equal(13817164269.532166, result.ReceivedBitsPerSecond, 3);
        Assert.Equal(13819955280.894382, result.SentBitsPerSecond, 3);
        Assert.Equal(1727528960, result.Bytes);
        Assert.Equal(2, result.Retransmits);
        Assert.Equal(65536, result.BlockBytes);
        Assert.Equal(13.817, result.ReceivedGbps, 3);
    }

    [Fact]
    public void AnIperf3ErrorBecomesAFormatExceptionWithItsText()
    {
        var e = Assert.Throws<FormatException>(() => Iperf3JsonParser.Parse("""{"start":{},"intervals":[],"end":{},"error":"unable to connect to server: Connection refused"}"""));
        Assert.Contains("unable to connect to server", e.Message);
    }

    [Theory]
    [InlineData("""{"start":{},"end":{}}""")]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    public void OutputWithoutTotalsIsRejected(string json) => Assert.Throws<FormatException>(() => Iperf3JsonParser.Parse(json));
}
