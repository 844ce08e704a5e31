using PdRdma.Perf.Baselines;

namespace PdRdma.Tests.Perf;

public sealed class PerftestParserTests
{
    [Fact]
    public void ReadsIbWriteBwRowsInGbits()
    {
        const string output = """
            ---------------------------------------------------------------------------------------
                                RDMA_Write BW Test
             Dual-port       : OFF		Device         : rxe0
            ---------------------------------------------------------------------------------------
             #bytes     #iterations    BW peak[Gb/sec]    BW average[Gb/sec]   MsgRate[Mpps]
             2          5000             0.010664            0.010531            0.658194
             65536      5000             0.96               0.95                0.001812
            ---------------------------------------------------------------------------------------
            """;
        var rows = PerftestParser.Parse(output);
        Assert.Equal(2, rows.Count);
        Assert.Equal(65536, rows[1].Bytes);
        Assert.Equal(5000, rows[1].Iterations);
        Assert.Equal(0.95, rows[1].AverageGbps);
    }

    [Fact]
    public void ReadsIbWriteLatTypicalAndP99()
    {
        const string output = """
             #bytes #iterations    t_min[usec]    t_max[usec]  t_typical[usec]    t_avg[usec]    t_stdev[usec]   99% percentile[usec]   99.9% percentile[usec]
             2       1000          38.21          412.10       52.33              60.11          20.01           150.20                 400.00
            """;
        var row = Assert.Single(PerftestParser.Parse(output));
        Assert.Equal(2, row.Bytes);
        Assert.Equal(52.33, row.TypicalLatencyUs);
        Assert.Equal(150.20, row.P99LatencyUs);
        Assert.Null(row.AverageGbps);
    }
}
